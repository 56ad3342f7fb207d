import NN

/// torchvision's `_make_divisible`: `v` rounded to the nearest multiple of `divisor`, at least `divisor`,
/// and never more than 10% below `v`.
public func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * v { rounded += divisor }
    return rounded
}

/// A convolution followed by batch-norm and ReLU6 (torchvision's `Conv2dNormActivation`, children `0`
/// conv and `1` bn), or without the activation for the linear bottleneck's projection.
struct ConvBNActivation: Layer {
    let config: Conv2dConfig
    let activation: Bool

    func callAsFunction(_ x: Value) throws -> Value {
        let y = try Sequential([try Conv2d(config), BatchNorm2d(config.outChannels)])(x)
        return activation ? try y.relu6() : y
    }
}

/// MobileNetV2's inverted residual with a linear bottleneck (torchvision's `InvertedResidual`):
/// 1×1 expansion to `hidden = round(in·t)` channels (omitted when t = 1), 3×3 depthwise with the stride,
/// 1×1 linear projection to `out` (no activation: ReLU on a low-dimensional code destroys information);
/// the input is added back when stride is 1 and `in == out`.
///
/// # Parameter names (torchvision's)
/// t ≠ 1: `conv.0.{0,1}` expansion conv/bn, `conv.1.{0,1}` depthwise conv/bn, `conv.2` projection, `conv.3` bn.
/// t = 1: `conv.0.{0,1}` depthwise conv/bn, `conv.1` projection, `conv.2` bn.
public struct InvertedResidual: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    public let expansion: Double

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int, expansion: Double) throws {
        guard stride == 1 || stride == 2 else { throw EngineError.invalid("InvertedResidual", "stride must be 1 or 2, got \(stride)") }
        guard expansion > 0 else { throw EngineError.invalid("InvertedResidual", "expansion must be positive, got \(expansion)") }
        self.inChannels = inChannels; self.outChannels = outChannels; self.stride = stride; self.expansion = expansion
    }

    /// `round(in·t)` with Python's round-half-to-even, as torchvision computes it.
    public var hiddenChannels: Int { max(1, Int((Double(inChannels) * expansion).rounded(.toNearestOrEven))) }

    public func callAsFunction(_ x: Value) throws -> Value {
        let hidden = hiddenChannels
        func cfg(_ i: Int, _ o: Int, kernel: Int, stride: Int = 1, groups: Int = 1) -> Conv2dConfig {
            Conv2dConfig(i, o, kernel: kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false,
                         initializer: .kaimingNormalFanOut)
        }
        var layers: [any Layer] = []
        if expansion != 1 { layers.append(ConvBNActivation(config: cfg(inChannels, hidden, kernel: 1), activation: true)) }
        layers.append(ConvBNActivation(config: cfg(hidden, hidden, kernel: 3, stride: stride, groups: hidden), activation: true))
        layers.append(try Conv2d(cfg(hidden, outChannels, kernel: 1)))
        layers.append(BatchNorm2d(outChannels))
        let y = try scoped("conv", x) { try Sequential(layers)($0) }
        return stride == 1 && inChannels == outChannels ? try y + x : y
    }
}

/// `nn.Linear` with an explicit initializer (torchvision's MobileNetV2 draws its classifier from N(0, 0.01)
/// with zero bias, not PyTorch's default).
struct InitializedLinear: Layer {
    let inFeatures: Int
    let outFeatures: Int
    let weightInitializer: Initializer

    func callAsFunction(_ x: Value) throws -> Value {
        let b = x.graphBuilder
        let w = try b.parameter("weight", shape: [outFeatures, inFeatures], initializer: weightInitializer)
        let bias = try b.parameter("bias", shape: [outFeatures], initializer: .zeros)
        return try x.linear(weight: w, bias: bias)
    }
}

/// MobileNetV2 (Sandler et al. 2018) with torchvision's topology, parameter names and initialisation:
/// `features.0` 3×3/2 stem (32·w channels), `features.1…17` inverted residuals with the settings
/// (t, c, n, s) = (1,16,1,1) (t,24,2,2) (t,32,3,2) (t,64,4,2) (t,96,3,1) (t,160,3,2) (t,320,1,1),
/// `features.18` 1×1 conv to 1280·max(1, w), global average pool, `classifier = Sequential(Dropout(p), Linear)`.
/// Channels are `makeDivisible(c·w, 8)`; `expansion` replaces torchvision's t = 6 (the first block keeps t = 1).
///
/// Its total stride is 32: at 28 px the last maps are 1×1, which is why it trails the stride-8 `PneumoNet`
/// there (the val AUCs measured: `bench/README.md`, "Kernel decisions"). At width 0.5 with 2 classes it has
/// 690,242 parameters and 7.83 M conv + linear MACs at 64 px, as torchvision.
///
/// # Shapes
/// input `[N, inChannels, S, S]` → logits `[N, classes]`.
public struct MobileNetV2: Layer {
    public let inChannels: Int
    public let classes: Int
    public let width: Double
    public let expansion: Double
    public let dropout: Float

    public init(inChannels: Int = 3, classes: Int = 2, width: Double = 1, expansion: Double = 6, dropout: Float = 0.2) throws {
        guard width > 0 else { throw EngineError.invalid("mobilenetv2", "width must be positive, got \(width)") }
        guard expansion > 0 else { throw EngineError.invalid("mobilenetv2", "expansion must be positive, got \(expansion)") }
        self.inChannels = inChannels; self.classes = classes; self.width = width; self.expansion = expansion; self.dropout = dropout
    }

    /// torchvision's `inverted_residual_setting` with t = 6 replaced by `expansion`.
    public var settings: [(t: Double, c: Int, n: Int, s: Int)] {
        let t = expansion
        return [(1, 16, 1, 1), (t, 24, 2, 2), (t, 32, 3, 2), (t, 64, 4, 2), (t, 96, 3, 1), (t, 160, 3, 2), (t, 320, 1, 1)]
    }

    public var stemChannels: Int { makeDivisible(32 * width) }
    public var lastChannels: Int { makeDivisible(1280 * max(1, width)) }

    public func callAsFunction(_ input: Value) throws -> Value {
        var c = stemChannels
        var features: [any Layer] = [ConvBNActivation(
            config: Conv2dConfig(inChannels, c, kernel: 3, stride: 2, padding: 1, bias: false, initializer: .kaimingNormalFanOut),
            activation: true)]
        for (t, channels, n, s) in settings {
            let out = makeDivisible(Double(channels) * width)
            for i in 0..<n {
                features.append(try InvertedResidual(c, out, stride: i == 0 ? s : 1, expansion: t))
                c = out
            }
        }
        features.append(ConvBNActivation(
            config: Conv2dConfig(c, lastChannels, kernel: 1, bias: false, initializer: .kaimingNormalFanOut), activation: true))
        var x = try scoped("features", input) { try Sequential(features)($0) }
        x = try x.globalAvgPool().flatten(startDim: 1)
        let head: [any Layer] = [Dropout(dropout), InitializedLinear(inFeatures: lastChannels, outFeatures: classes,
                                                                      weightInitializer: .normal(std: 0.01))]
        return try scoped("classifier", x) { try Sequential(head)($0) }
    }
}
