import NN

/// torchvision's ResNet `BasicBlock`: two 3×3 convolutions with batch-norm, a projection shortcut
/// (1×1 conv + batch-norm, named `downsample.0/1`) when the stride or width changes.
public struct BasicBlock: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.stride = stride
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        let conv = { (i: Int, o: Int, s: Int) in
            try Conv2d(Conv2dConfig(i, o, kernel: 3, stride: s, padding: 1, bias: false, initializer: .kaimingNormalFanOut))
        }
        var y = try scoped("conv1", x) { try conv(inChannels, outChannels, stride)($0) }
        y = try scoped("bn1", y) { try BatchNorm2d(outChannels)($0) }.relu()
        y = try scoped("conv2", y) { try conv(outChannels, outChannels, 1)($0) }
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

/// ResNet-18 with torchvision's topology (7×7/2 stem, 3×3/2 max-pool, four stages of two BasicBlocks,
/// global average pool) and the spec's head: `fc = Sequential(Dropout(p), Linear(512·width, classes))`,
/// so parameters are named `fc.1.weight`. With `upsampleTo`, the input is first resized bilinearly
/// (the spec baseline's legacy `forward`: any input that is not 224×224 becomes 224×224).
///
/// # Shapes
/// input `[N, inChannels, S, S]` → logits `[N, classes]`.
public struct ResNet18: Layer {
    public var inChannels: Int = 3
    public var classes: Int = 2
    public var width: Double = 1
    public var dropout: Float = 0.5
    public var upsampleTo: Int? = nil

    public init(inChannels: Int = 3, classes: Int = 2, width: Double = 1, dropout: Float = 0.5, upsampleTo: Int? = nil) {
        self.inChannels = inChannels; self.classes = classes; self.width = width; self.dropout = dropout; self.upsampleTo = upsampleTo
    }

    /// Stage widths 64·w, 128·w, 256·w, 512·w (at least 1 channel each).
    public var stageChannels: [Int] { [64, 128, 256, 512].map { max(1, Int((Double($0) * width).rounded())) } }

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
            x = try scoped("layer\(stage + 1)", x) { x in
                try Sequential([BasicBlock(c, out, stride: stage == 0 ? 1 : 2), BasicBlock(out, out)])(x)
            }
            c = out
        }
        x = try x.globalAvgPool().flatten(startDim: 1)
        return try scoped("fc", x) { try Sequential([Dropout(dropout), Linear(c, classes)])($0) }
    }
}
