import Foundation

/// How a parameter is filled at construction. The defaults match PyTorch's so that freshly built models
/// start from the same distributions as their PyTorch counterparts.
public enum Initializer: Sendable, Hashable {
    case zeros
    case ones
    case constant(Float)
    /// Uniform in ±bound.
    case uniform(bound: Float)
    case normal(std: Float)
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`: std = √(2 / fan_out) (torchvision's ResNet convs).
    case kaimingNormalFanOut
    /// PyTorch's default for `Conv2d`/`Linear` weights, `kaiming_uniform_(a=√5)`: bound = 1/√fan_in.
    case pytorchDefaultWeight
    /// PyTorch's default bias: uniform in ±1/√fan_in of the layer's weight (fan_in given).
    case pytorchDefaultBias(fanIn: Int)

    /// fan_in / fan_out as PyTorch computes them for a weight `[out, in, k...]`.
    static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (max(shape.first ?? 1, 1), max(shape.first ?? 1, 1)) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func makeTensor(_ shape: [Int], using rng: inout SeededRandom) -> Tensor {
        let (fanIn, fanOut) = Self.fans(shape)
        switch self {
        case .zeros: return Tensor(zeros: shape)
        case .ones: return Tensor(repeating: 1, shape: shape)
        case .constant(let v): return Tensor(repeating: v, shape: shape)
        case .uniform(let b): return .randomUniform(shape, low: -b, high: b, using: &rng)
        case .normal(let std): return .randomNormal(shape, std: std, using: &rng)
        case .kaimingNormalFanOut: return .randomNormal(shape, std: Float((2.0 / Double(fanOut)).squareRoot()), using: &rng)
        case .pytorchDefaultWeight:
            let b = Float(1 / Double(fanIn).squareRoot())
            return .randomUniform(shape, low: -b, high: b, using: &rng)
        case .pytorchDefaultBias(let fi):
            let b = Float(1 / Double(max(fi, 1)).squareRoot())
            return .randomUniform(shape, low: -b, high: b, using: &rng)
        }
    }
}
