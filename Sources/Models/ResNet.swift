import NN

/// ResNet-18 with torchvision's topology (7×7/2 stem, 3×3/2 max-pool, four stages of two BasicBlocks,
/// global average pool) and the spec's head: `fc = Sequential(Dropout(p), Linear(512·width, classes))`,
/// so parameters are named `fc.1.weight`. With `upsampleTo`, the input is first resized bilinearly
/// (the spec baseline's legacy `forward`: any input that is not 224×224 becomes 224×224). The network is
/// `ResNet18Variant` with standard convolutions: one definition of the topology for the whole family.
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
        try ResNet18Variant(inChannels: inChannels, classes: classes, width: width, dropout: dropout, upsampleTo: upsampleTo,
                            convolution: .standard)(input)
    }
}
