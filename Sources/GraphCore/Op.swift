/// A pair of sizes along height and width.
public struct Pair: Hashable, Sendable, Codable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.init(both, both) }
    public var description: String { h == w ? "\(h)" : "(\(h), \(w))" }
}

/// conv2d: `x [N, C, H, W]`, `weight [K, C/groups, kH, kW]`, optional `bias [K]` → `[N, K, Ho, Wo]`,
/// `Ho = (H + 2·padding.h − dilation.h·(kH − 1) − 1) / stride.h + 1` (PyTorch's formula).
public struct Conv2dAttributes: Hashable, Sendable, Codable {
    public var stride: Pair
    public var padding: Pair
    public var dilation: Pair
    public var groups: Int
    public init(stride: Pair = Pair(1), padding: Pair = Pair(0), dilation: Pair = Pair(1), groups: Int = 1) {
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
    }
}

/// max/avg pool2d: `Ho = (H + 2·padding.h − kernel.h) / stride.h + 1` (floor mode). Average pooling
/// divides by the full window, padding included (PyTorch's `count_include_pad=True`).
public struct Pool2dAttributes: Hashable, Sendable, Codable {
    public var kernel: Pair
    public var stride: Pair
    public var padding: Pair
    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = Pair(0)) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
}

/// batch_norm2d over `[N, C, H, W]` with per-channel `weight`, `bias`, `running_mean`, `running_var`.
/// Training normalises by the batch's biased variance and updates the running statistics with
/// `running = (1 − momentum)·running + momentum·batch` (unbiased variance), as PyTorch does.
public struct BatchNormAttributes: Hashable, Sendable, Codable {
    public var epsilon: Float
    public var momentum: Float
    public init(epsilon: Float = 1e-5, momentum: Float = 0.1) { self.epsilon = epsilon; self.momentum = momentum }
}

/// Per-tensor linear quantization, ONNX's `QuantizeLinear` then `DequantizeLinear` with zero point 0:
/// `y = scale · clamp(round_half_even(x / scale), low, high)`, with `[low, high]` = [−128, 127] (int8) or
/// [0, 255] (uint8). The float graph computes exactly what an integer kernel reading `q` computes.
public struct QuantizationAttributes: Hashable, Sendable, Codable {
    public var scale: Float
    public var unsigned: Bool
    public init(scale: Float, unsigned: Bool) { self.scale = scale; self.unsigned = unsigned }
    public var low: Float { unsigned ? 0 : -128 }
    public var high: Float { unsigned ? 255 : 127 }

    /// `x` rounded onto the grid.
    @inline(__always) public func apply(_ x: Float) -> Float {
        Swift.min(Swift.max((x / scale).rounded(.toNearestOrEven), low), high) * scale
    }
}

/// The op kinds of the graph IR. Inputs of each node, in order, are documented per case.
public enum Op: Hashable, Sendable, Codable {
    /// A graph input fed at run time (images, labels).
    case input(name: String)
    /// A trainable tensor, named like PyTorch's state dict (`layer1.0.conv1.weight`).
    case parameter(name: String)
    /// A non-trainable state tensor (`bn1.running_mean`), updated in training mode.
    case buffer(name: String)
    /// x, weight, bias?
    case conv2d(Conv2dAttributes)
    /// x, weight, bias, running_mean, running_var
    case batchNorm2d(BatchNormAttributes)
    case relu
    case relu6
    case maxPool2d(Pool2dAttributes)
    case avgPool2d(Pool2dAttributes)
    /// `[N, C, H, W]` → `[N, C, 1, 1]`
    case globalAvgPool
    /// x `[N, in]`, weight `[out, in]`, bias? `[out]` → `[N, out]`
    case linear
    /// a + b, same shapes
    case add
    /// Keeps dims before `startDim`, multiplies the rest into one.
    case flatten(startDim: Int)
    /// Zeroes each element with probability `p` in training and scales the rest by 1/(1−p); identity otherwise.
    case dropout(p: Float)
    /// Bilinear resize to (height, width), `align_corners=False` (PyTorch's `F.interpolate` default).
    case resizeBilinear(height: Int, width: Int)
    /// logits `[N, K]`, labels `[N]` (class indices as floats) → scalar mean loss, weighted like
    /// PyTorch's `cross_entropy(weight=…)`: `Σ w[y]·nll / Σ w[y]`.
    case softmaxCrossEntropy(classWeights: [Float]?)
    /// x → x rounded onto an int8/uint8 grid (see `QuantizationAttributes`); the gradient passes
    /// straight through inside the grid's range and is zero outside it.
    case fakeQuantize(QuantizationAttributes)
    /// a ∘ b element-wise with NumPy broadcasting (`ShapeInference.broadcast`). `add` above is the same-shape
    /// sum that convolutions absorb as a residual; this one also broadcasts (a squeeze-excitation's scale).
    case binary(BinaryOperator)
    /// An element-wise activation other than ReLU/ReLU6 (sigmoid, hard-sigmoid, hard-swish, swish).
    case activation(Activation)
    /// exp(x − max) / Σ exp(x − max) along `axis` (non-negative).
    case softmax(axis: Int)
    /// Output dim i is input dim `permutation[i]`.
    case transpose(permutation: [Int])
    /// Pads each axis (see `PadAttributes`).
    case pad(PadAttributes)
    /// Inputs (equal shapes but along `axis`, non-negative) joined along `axis`.
    case concat(axis: Int)
    /// The mean over `axes` (non-negative, ascending); `keepDims` keeps them as 1s, else they are removed.
    case reduceMean(axes: [Int], keepDims: Bool)

    /// A short name for tables and error messages.
    public var kindName: String {
        switch self {
        case .input: "input"
        case .parameter: "parameter"
        case .buffer: "buffer"
        case .conv2d: "conv2d"
        case .batchNorm2d: "batch_norm2d"
        case .relu: "relu"
        case .relu6: "relu6"
        case .maxPool2d: "max_pool2d"
        case .avgPool2d: "avg_pool2d"
        case .globalAvgPool: "global_avg_pool"
        case .linear: "linear"
        case .add: "add"
        case .flatten: "flatten"
        case .dropout: "dropout"
        case .resizeBilinear: "resize_bilinear"
        case .softmaxCrossEntropy: "softmax_cross_entropy"
        case .fakeQuantize: "fake_quantize"
        case .binary(let o): o.rawValue
        case .activation(let f): f.name
        case .softmax: "softmax"
        case .transpose: "transpose"
        case .pad: "pad"
        case .concat: "concat"
        case .reduceMean: "reduce_mean"
        }
    }

    /// Leaf nodes hold data rather than compute it.
    public var isLeaf: Bool {
        switch self {
        case .input, .parameter, .buffer: true
        default: false
        }
    }
}
