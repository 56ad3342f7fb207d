import NN

/// A 3×3 convolution with stride 2, batch-norm and ReLU: the downsampling step that opens each stage
/// (PyTorch children `conv`, `bn`).
struct DownsampleConv: Layer {
    let inChannels: Int
    let outChannels: Int

    func callAsFunction(_ x: Value) throws -> Value {
        var y = try scoped("conv", x) {
            try Conv2d(Conv2dConfig(inChannels, outChannels, kernel: 3, stride: 2, padding: 1, bias: false,
                                    initializer: .kaimingNormalFanOut))($0)
        }
        y = try scoped("bn", y) { try BatchNorm2d(outChannels)($0) }
        return try y.relu()
    }
}

/// A depthwise-separable residual block at constant width and resolution:
/// `relu(x + bn2(conv2(relu(bn1(conv1(x))))))` with `conv1` 3×3 depthwise (`[C, 1, 3, 3]`) and `conv2`
/// 1×1 pointwise (`[C, C, 1, 1]`): 9·C + C² weights instead of a 3×3 convolution's 9·C².
public struct SeparableResidualBlock: Layer {
    public let channels: Int

    public init(_ channels: Int) { self.channels = channels }

    public func callAsFunction(_ x: Value) throws -> Value {
        let c = channels
        var y = try scoped("conv1", x) {
            try Conv2d(Conv2dConfig(c, c, kernel: 3, padding: 1, groups: c, bias: false, initializer: .kaimingNormalFanOut))($0)
        }
        y = try scoped("bn1", y) { try BatchNorm2d(c)($0) }.relu()
        y = try scoped("conv2", y) {
            try Conv2d(Conv2dConfig(c, c, kernel: 1, bias: false, initializer: .kaimingNormalFanOut))($0)
        }
        y = try scoped("bn2", y) { try BatchNorm2d(c)($0) }
        return try (y + x).relu()
    }
}

/// PneumoNet: our small classifier for 28–64 px grayscale chest X-rays, built to meet the SLA
/// (< 0.4 GFLOPs, < 3 ms single-image latency, > 2000 samples/s on 2 cores) with a wide margin while
/// staying close to ResNet-18's AUC.
///
/// ```
/// stem      3×3 conv (s1) · bn · relu                       C_in → w0      S × S
/// layer1    3×3 conv (s2) · bn · relu, then B × sep-res     w0 → w1        S/2
/// layer2    3×3 conv (s2) · bn · relu, then B × sep-res     w1 → w2        S/4
/// layer3    3×3 conv (s2) · bn · relu, then B × sep-res     w2 → w3        S/8
/// head      global avg pool · fc = Sequential(Dropout(p), Linear(w3, classes))
/// ```
/// (sep-res: `SeparableResidualBlock`; one more `layerN` per extra entry of `widths`.)
///
/// # Design choices
/// - **Total stride 8** (2^(stages)). PneumoniaMNIST's native 28 px leaves a 4×4 final map: enough spatial
///   context for global pooling to average over. ResNet-18 and MobileNetV2 (stride 32) end at 1×1 there;
///   a stride-32 network trails a small stride-8 one at 28 px for that reason (`bench/README.md`, "Kernel
///   decisions", has the val AUCs measured). No max-pool: at 28 px every early pixel matters.
/// - **Stride-1 stem**: the only full-resolution layer is a 3×3 conv to 16 channels (144 weights for
///   grayscale), cheap even at 64 px.
/// - **Dense 3×3 convolutions only where the map shrinks**: they mix channels and widen at 1/4 of the
///   previous resolution, so they cost the same MACs at every stage (S²/4^k · w_k·w_{k−1}·9 is constant
///   when widths double).
/// - **Depthwise-separable residual blocks for depth**: they grow the receptive field (to cover the whole
///   lung field at 28 px) at ~1/8 of a dense 3×3 convolution’s cost ((9·C + C²) / 9·C²), and the identity
///   shortcut keeps training easy.
/// - **Batch-norm after every convolution, ReLU activations, convolutions without bias**: batch-norm folds
///   into the preceding convolution at export, and conv + bias + ReLU (+ residual add) run as one fused
///   primitive, so inference is only convolutions.
/// - **Head like the other family members** (`fc.1.weight`), so training, export and the rewrites treat
///   every model alike; dropout 0.2 because the head has only `w3·classes` weights to regularise.
/// - **Defaults** `widths` = [16, 32, 64, 128], one separable block per stage, 1 input channel:
///   122,066 parameters; 3.87 M MACs at 28 px and 18.4 M at 64 px (0.037 GFLOPs, 1/8 of ResNet-18's at
///   the same size, and < 1/10 of the SLA budget).
///
/// # Shapes
/// input `[N, inChannels, S, S]` → logits `[N, classes]`; the last feature map is `⌈S/8⌉ × ⌈S/8⌉`.
public struct PneumoNet: Layer {
    public let inChannels: Int
    public let classes: Int
    /// Stem width then one width per stage; each stage halves the resolution.
    public let widths: [Int]
    /// Separable residual blocks per stage (0 gives a plain strided CNN).
    public let blocks: Int
    public let dropout: Float

    public static let defaultWidths = [16, 32, 64, 128]

    /// `width` scales `widths` (rounded, at least 1 channel each). Throws on an empty or non-positive
    /// width list, a negative block count or a dropout outside [0, 1).
    public init(inChannels: Int = 1, classes: Int = 2, widths: [Int] = PneumoNet.defaultWidths, width: Double = 1,
                blocks: Int = 1, dropout: Float = 0.2) throws {
        guard widths.count >= 2, widths.count <= 6, widths.allSatisfy({ $0 > 0 }) else {
            throw EngineError.invalid("pneumonet", "widths must list 2 to 6 positive channel counts (stem, then one per stage), got \(describe(widths))")
        }
        guard width > 0 else { throw EngineError.invalid("pneumonet", "width must be positive, got \(width)") }
        guard blocks >= 0 else { throw EngineError.invalid("pneumonet", "blocks must be non-negative, got \(blocks)") }
        guard dropout >= 0, dropout < 1 else { throw EngineError.invalid("pneumonet", "dropout must be in [0, 1), got \(dropout)") }
        self.inChannels = inChannels; self.classes = classes; self.blocks = blocks; self.dropout = dropout
        self.widths = widths.map { max(1, Int((Double($0) * width).rounded())) }
    }

    /// Total stride: the input size divided by the last feature map's.
    public var totalStride: Int { 1 << (widths.count - 1) }

    public func callAsFunction(_ input: Value) throws -> Value {
        var x = try scoped("stem", input) { x in
            try Sequential([try Conv2d(Conv2dConfig(inChannels, widths[0], kernel: 3, padding: 1, bias: false,
                                                    initializer: .kaimingNormalFanOut)),
                            BatchNorm2d(widths[0])])(x)
        }.relu()
        for stage in 1..<widths.count {
            let (c, out) = (widths[stage - 1], widths[stage])
            let layers: [any Layer] = [DownsampleConv(inChannels: c, outChannels: out)]
                + Array(repeating: SeparableResidualBlock(out), count: blocks)
            x = try scoped("layer\(stage)", x) { try Sequential(layers)($0) }
        }
        x = try x.globalAvgPool().flatten(startDim: 1)
        return try scoped("fc", x) { try Sequential([Dropout(dropout), Linear(widths.last!, classes)])($0) }
    }
}
