import NN

/// Settings of a family member beyond its name; `nil` means the member's default (`ModelEntry.defaults`).
/// Not every option applies to every member (`ModelEntry.reads`); giving one that does not is an error.
/// Stored in checkpoints as JSON (`ModelDescriptor.options`), with only the options that are set.
public struct ModelOptions: Sendable, Hashable, Codable {
    /// Channel multiplier (ResNet family: stage widths 64·w…512·w; MobileNetV2: torchvision's `width_mult`;
    /// PneumoNet: multiplies `widths`).
    public var width: Double?
    /// MobileNetV2's expansion factor t (torchvision: 6).
    public var expansion: Double?
    /// `resnet18-grouped`: groups of each 3×3 block convolution (default 4).
    public var groups: Int?
    /// `resnet18-lowrank`: rank of each factorized 3×3 block convolution (default 32).
    public var rank: Int?
    /// Dropout before the final linear layer.
    public var dropout: Float?
    /// PneumoNet: stem width then one width per stride-2 stage.
    public var widths: [Int]?
    /// PneumoNet: separable residual blocks per stage.
    public var blocks: Int?
    /// ResNet family: bilinear resize of the input to this size before the stem (`baseline`: 224).
    public var upsample: Int?

    public init(width: Double? = nil, expansion: Double? = nil, groups: Int? = nil, rank: Int? = nil, dropout: Float? = nil,
                widths: [Int]? = nil, blocks: Int? = nil, upsample: Int? = nil) {
        self.width = width; self.expansion = expansion; self.groups = groups; self.rank = rank; self.dropout = dropout
        self.widths = widths; self.blocks = blocks; self.upsample = upsample
    }

    /// The option names, in declaration order: the keys of spec files and of the checkpoint's JSON.
    public enum Name: String, Sendable, CaseIterable, Comparable {
        case width, expansion, groups, rank, dropout, widths, blocks, upsample

        public static func < (a: Name, b: Name) -> Bool { a.rawValue < b.rawValue }
    }

    /// The value of the option `name` as text (`0.5`, `[8, 16, 32]`), or nil when it is not set.
    public func valueText(_ name: Name) -> String? {
        switch name {
        case .width: width.map { "\($0)" }
        case .expansion: expansion.map { "\($0)" }
        case .groups: groups.map { "\($0)" }
        case .rank: rank.map { "\($0)" }
        case .dropout: dropout.map { "\($0)" }
        case .widths: widths.map { "\($0)" }
        case .blocks: blocks.map { "\($0)" }
        case .upsample: upsample.map { "\($0)" }
        }
    }

    /// Whether the option `name` is set.
    public func isSet(_ name: Name) -> Bool { valueText(name) != nil }

    /// The options that are set (given), in declaration order.
    public var given: [Name] { Name.allCases.filter(isSet) }

    /// The names of the options that are set, in declaration order.
    public var setNames: [String] { given.map(\.rawValue) }

    /// The options that are set with their values, for messages: `width 0.5, widths [8, 16, 32]`.
    public var description: String {
        Name.allCases.compactMap { name in valueText(name).map { "\(name.rawValue) \($0)" } }.joined(separator: ", ")
    }

    /// These options, with each one that is not set taken from `defaults`.
    public func filled(from defaults: ModelOptions) -> ModelOptions {
        ModelOptions(width: width ?? defaults.width, expansion: expansion ?? defaults.expansion, groups: groups ?? defaults.groups,
                     rank: rank ?? defaults.rank, dropout: dropout ?? defaults.dropout, widths: widths ?? defaults.widths,
                     blocks: blocks ?? defaults.blocks, upsample: upsample ?? defaults.upsample)
    }
}
