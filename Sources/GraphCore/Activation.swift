import Foundation

/// Element-wise activations of `Op.activation`, with their derivatives: what the reference computes and every
/// fast path (oneDNN's eltwise algorithms, fused post-ops) is tested against.
public enum Activation: Hashable, Sendable, Codable {
    /// σ(x) = 1 / (1 + e^−x).
    case sigmoid
    /// max(0, min(1, α·x + β)): ONNX's HardSigmoid (α 0.2, β 0.5 by default); PyTorch's `hardsigmoid` is α = 1/6, β = 0.5.
    case hardSigmoid(alpha: Float, beta: Float)
    /// x · min(max(x + 3, 0), 6) / 6 (MobileNetV3's; ONNX's HardSwish, PyTorch's `hardswish`).
    case hardSwish
    /// x · σ(x) (SiLU; EfficientNet's), which exporters write as Mul(x, Sigmoid(x)).
    case swish

    /// The name in tables and error messages (`Op.kindName`).
    public var name: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .hardSigmoid: "hard_sigmoid"
        case .hardSwish: "hard_swish"
        case .swish: "swish"
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// f(x).
    @inline(__always) public func apply(_ x: Float) -> Float {
        switch self {
        case .sigmoid: return Self.sigmoid(x)
        case .hardSigmoid(let a, let b): return Swift.max(0, Swift.min(1, a * x + b))
        case .hardSwish: return x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        case .swish: return x * Self.sigmoid(x)
        }
    }

    /// f′(x); at the kinks of the piecewise ones, the value PyTorch's backward takes (hard-sigmoid: α inside the open
    /// interval only; hard-swish: x/3 + 1/2 on [−3, 3]).
    @inline(__always) public func derivative(_ x: Float) -> Float {
        switch self {
        case .sigmoid:
            let s = Self.sigmoid(x)
            return s * (1 - s)
        case .hardSigmoid(let a, let b):
            let t = a * x + b
            return t > 0 && t < 1 ? a : 0
        case .hardSwish:
            return x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1
        case .swish:
            let s = Self.sigmoid(x)
            return s + x * s * (1 - s)
        }
    }
}

/// The operators of `Op.binary`.
public enum BinaryOperator: String, Hashable, Sendable, Codable, CaseIterable {
    case add, sub, mul, div

    @inline(__always) public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }

    /// Whether a ∘ b = b ∘ a (the runtime may then swap operands so that the broadcast one comes second).
    public var commutes: Bool { self == .add || self == .mul }
}

/// pad: `begin[i]` and `end[i]` elements (non-negative) added before and after axis i. `constant` fills with
/// `value`; `reflect` mirrors without repeating the edge (`[a b c]` → `c b | a b c | b a`, each pad below the axis'
/// size); `edge` repeats the edge element. ONNX's Pad modes; PyTorch's `F.pad` constant, reflect and replicate.
public struct PadAttributes: Hashable, Sendable, Codable {
    public enum Mode: String, Hashable, Sendable, Codable, CaseIterable { case constant, reflect, edge }
    public var begin: [Int]
    public var end: [Int]
    public var mode: Mode
    public var value: Float

    public init(begin: [Int], end: [Int], mode: Mode = .constant, value: Float = 0) {
        self.begin = begin; self.end = end; self.mode = mode; self.value = value
    }

    /// The input index that output index `i` of an axis of `size` reads (nil: the constant).
    @inline(__always) public func source(_ i: Int, axis: Int, size: Int) -> Int? {
        let j = i - begin[axis]
        if j >= 0 && j < size { return j }
        switch mode {
        case .constant: return nil
        case .edge: return j < 0 ? 0 : size - 1
        case .reflect: return j < 0 ? -j : 2 * (size - 1) - j
        }
    }
}
