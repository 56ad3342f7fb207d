import NN

/// How the two 3×3 convolutions of a ResNet `BasicBlock` are computed. Each choice is also what an
/// optimization rewrite produces from a trained standard block, so a variant trained from scratch and a
/// rewritten baseline have the same parameter names and shapes.
///
/// # Parameters of one 3×3 convolution `in → out` (stride s; `·` is a product)
/// - `standard`: `conv.weight [out, in, 3, 3]`: 9·in·out.
/// - `grouped(g)`: `conv.weight [out, in/g, 3, 3]`: 9·in·out/g (ResNeXt's grouped convolution without
///   the bottleneck; channels mix across groups only through the shortcut's and the next block's convs).
/// - `depthwiseSeparable`: `conv.0.weight [in, 1, 3, 3]` (depthwise, stride s) then
///   `conv.1.weight [out, in, 1, 1]` (pointwise): 9·in + in·out. No normalization or activation between
///   the two (Xception's finding that an intermediate ReLU hurts), so the pair is a factorization of one
///   convolution and the block keeps BasicBlock's `bn1`/`bn2` after each pair.
/// - `lowRank(r)`: `conv.0.weight [r', in, 3, 3]` (stride s) then `conv.1.weight [out, r', 1, 1]`:
///   9·in·r' + r'·out with `r' = min(r, out, 9·in)`, the rank of the weight viewed as an
///   `[out, 9·in]` matrix (its truncated SVD gives the two factors).
public enum BlockConvolution: Sendable, Hashable {
    case standard
    case grouped(groups: Int)
    case depthwiseSeparable
    case lowRank(rank: Int)

    /// The rank a low-rank factor actually gets for a convolution `inChannels → outChannels`.
    public static func effectiveRank(_ rank: Int, inChannels: Int, outChannels: Int) -> Int {
        min(rank, outChannels, 9 * inChannels)
    }
}

/// One 3×3 convolution of a residual block (padding 1, no bias: batch-norm follows), computed as `style`.
public struct BlockConv3x3: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    public let style: BlockConvolution

    /// Throws when the groups do not divide both channel counts or the rank is not positive.
    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, style: BlockConvolution) throws {
        switch style {
        case .grouped(let g):
            guard g >= 1, inChannels % g == 0, outChannels % g == 0 else {
                throw EngineError.invalid("BlockConv3x3", "groups \(g) must divide in \(inChannels) and out \(outChannels) channels")
            }
        case .lowRank(let r):
            guard r >= 1 else { throw EngineError.invalid("BlockConv3x3", "rank must be positive, got \(r)") }
        case .standard, .depthwiseSeparable: break
        }
        self.inChannels = inChannels; self.outChannels = outChannels; self.stride = stride; self.style = style
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        func conv(_ i: Int, _ o: Int, kernel: Int, stride: Int, groups: Int = 1) throws -> Conv2d {
            try Conv2d(Conv2dConfig(i, o, kernel: kernel, stride: stride, padding: kernel / 2, groups: groups, bias: false,
                                    initializer: .kaimingNormalFanOut))
        }
        switch style {
        case .standard:
            return try conv(inChannels, outChannels, kernel: 3, stride: stride)(x)
        case .grouped(let g):
            return try conv(inChannels, outChannels, kernel: 3, stride: stride, groups: g)(x)
        case .depthwiseSeparable:
            return try Sequential([try conv(inChannels, inChannels, kernel: 3, stride: stride, groups: inChannels),
                                   try conv(inChannels, outChannels, kernel: 1, stride: 1)])(x)
        case .lowRank(let r):
            let rank = BlockConvolution.effectiveRank(r, inChannels: inChannels, outChannels: outChannels)
            return try Sequential([try conv(inChannels, rank, kernel: 3, stride: stride),
                                   try conv(rank, outChannels, kernel: 1, stride: 1)])(x)
        }
    }
}

/// torchvision's `BasicBlock` with its 3×3 convolutions computed as `style`; the shortcut (identity, or
/// `downsample` = 1×1 conv + batch-norm when the stride or width changes) is unchanged.
public struct VariantBasicBlock: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    public let style: BlockConvolution

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, style: BlockConvolution) throws {
        // Validate both convolutions now, at construction.
        _ = try BlockConv3x3(inChannels, outChannels, stride: stride, style: style)
        _ = try BlockConv3x3(outChannels, outChannels, style: style)
        self.inChannels = inChannels; self.outChannels = outChannels; self.stride = stride; self.style = style
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        var y = try scoped("conv1", x) { try BlockConv3x3(inChannels, outChannels, stride: stride, style: style)($0) }
        y = try scoped("bn1", y) { try BatchNorm2d(outChannels)($0) }.relu()
        y = try scoped("conv2", y) { try BlockConv3x3(outChannels, outChannels, style: style)($0) }
        y = try scoped("bn2", y) { try BatchNorm2d(outChannels)($0) }
        var shortcut = x
        if stride != 1 || inChannels != outChannels {
            shortcut = try scoped("downsample", x) { x in
                try Sequential([try Conv2d(Conv2dConfig(inChannels, outChannels, kernel: 1, stride: stride, bias: false,
                                                        initializer: .kaimingNormalFanOut)),
                                BatchNorm2d(outChannels)])(x)
            }
        }
        return try (y + shortcut).relu()
    }
}

/// ResNet-18 (torchvision topology, width multiplier, the spec's `fc = Sequential(Dropout, Linear)` head)
/// whose BasicBlocks compute their 3×3 convolutions as `convolution`: the `resnet18-grouped`,
/// `resnet18-dws` and `resnet18-lowrank` family members. The stem (7×7/2 conv, 3×3/2 max-pool), the
/// 1×1 projection shortcuts and the head stay as in ResNet-18, so the variants differ from `resnet18` only
/// where the cost is (the stages’ 3×3 convolutions hold 92% of its MACs at 64 px). With `.standard` this
/// is `ResNet18` exactly (same names, shapes and initialisation).
///
/// # Shapes
/// input `[N, inChannels, S, S]` → logits `[N, classes]`; the last feature map is `⌈S/32⌉ × ⌈S/32⌉`.
public struct ResNet18Variant: Layer {
    public let inChannels: Int
    public let classes: Int
    public let width: Double
    public let dropout: Float
    public let upsampleTo: Int?
    public let convolution: BlockConvolution

    /// Throws when `convolution`'s groups do not divide every stage width or its rank is not positive.
    public init(inChannels: Int = 3, classes: Int = 2, width: Double = 1, dropout: Float = 0.5, upsampleTo: Int? = nil,
                convolution: BlockConvolution) throws {
        self.inChannels = inChannels; self.classes = classes; self.width = width; self.dropout = dropout
        self.upsampleTo = upsampleTo; self.convolution = convolution
        let ch = stageChannels
        switch convolution {
        case .grouped(let g):
            guard g >= 1, ch.allSatisfy({ $0 % g == 0 }) else {
                throw EngineError.invalid("resnet18-grouped", "groups \(g) must divide every stage width \(describe(ch))")
            }
        case .lowRank(let r):
            guard r >= 1 else { throw EngineError.invalid("resnet18-lowrank", "rank must be positive, got \(r)") }
        case .standard, .depthwiseSeparable: break
        }
    }

    /// Stage widths 64·w, 128·w, 256·w, 512·w, as `ResNet18`.
    public var stageChannels: [Int] { ResNet18(width: width).stageChannels }

    public func callAsFunction(_ input: Value) throws -> Value {
        var x = input
        if let size = upsampleTo, x.shape[2] != size || x.shape[3] != size {
            x = try x.resizeBilinear(height: size, width: size)
        }
        let ch = stageChannels
        x = try scoped("conv1", x) {
            try Conv2d(Conv2dConfig(inChannels, ch[0], kernel: 7, stride: 2, padding: 3, bias: false, initializer: .kaimingNormalFanOut))($0)
        }
        x = try scoped("bn1", x) { try BatchNorm2d(ch[0])($0) }.relu()
        x = try x.maxPool2d(Pool2dAttributes(kernel: Pair(3), stride: Pair(2), padding: Pair(1)))
        var c = ch[0]
        for (stage, out) in ch.enumerated() {
            let blocks: [any Layer] = [try VariantBasicBlock(c, out, stride: stage == 0 ? 1 : 2, style: convolution),
                                       try VariantBasicBlock(out, out, style: convolution)]
            x = try scoped("layer\(stage + 1)", x) { try Sequential(blocks)($0) }
            c = out
        }
        x = try x.globalAvgPool().flatten(startDim: 1)
        return try scoped("fc", x) { try Sequential([Dropout(dropout), Linear(c, classes)])($0) }
    }
}
