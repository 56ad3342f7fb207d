import NN

/// Settings of a family member beyond its name; `nil` means the member's default. Not every option
/// applies to every member (`ModelZoo.applicableOptions`); giving one that does not is an error.
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

    /// The names of the options that are set, in declaration order.
    public var setNames: [String] {
        [("width", width != nil), ("expansion", expansion != nil), ("groups", groups != nil), ("rank", rank != nil),
         ("dropout", dropout != nil), ("widths", widths != nil), ("blocks", blocks != nil), ("upsample", upsample != nil)]
            .filter(\.1).map(\.0)
    }
}

/// The named model configurations of the family, which the command-line tool, the trainer, the profiler
/// and the optimization analysis accept by name.
public enum ModelZoo {
    public static let names = ["baseline", "resnet18", "resnet18-grouped", "resnet18-dws", "resnet18-lowrank",
                               "mobilenetv2", "pneumonet"]

    /// One line per member, for help texts and reports.
    public static let descriptions: [String: String] = [
        "baseline": "the spec's ResNet-18: input resized bilinearly to 224 px, Dropout+Linear head",
        "resnet18": "ResNet-18 at the native input size (no upsampling), width multiplier",
        "resnet18-grouped": "ResNet-18 with grouped 3×3 block convolutions (groups, default 4)",
        "resnet18-dws": "ResNet-18 with depthwise-separable 3×3 block convolutions",
        "resnet18-lowrank": "ResNet-18 with rank-r factorized 3×3 block convolutions (rank, default 32)",
        "mobilenetv2": "torchvision's MobileNetV2: inverted residuals, linear bottlenecks (width, expansion)",
        "pneumonet": "our stride-8 CNN for 28–64 px grayscale input (widths, blocks, width)",
    ]

    /// The options each member reads.
    public static let applicableOptions: [String: Set<String>] = {
        let resnet: Set<String> = ["width", "dropout", "upsample"]
        return [
            "baseline": resnet, "resnet18": resnet, "resnet18-dws": resnet,
            "resnet18-grouped": resnet.union(["groups"]), "resnet18-lowrank": resnet.union(["rank"]),
            "mobilenetv2": ["width", "expansion", "dropout"],
            "pneumonet": ["width", "widths", "blocks", "dropout"],
        ]
    }()

    /// The input channels a member is built for when none are given: 1 (grayscale) for `pneumonet`,
    /// 3 (the gray image replicated, as the spec's baseline) for the ImageNet-derived members.
    public static func defaultChannels(_ name: String) -> Int { name == "pneumonet" ? 1 : 3 }

    /// Builds the layer for `name` with `channels` input channels (default: `defaultChannels(name)`).
    /// Throws for an unknown name, an option the member does not read, or an invalid option value.
    public static func layer(_ name: String, channels: Int? = nil, classes: Int = 2,
                             options: ModelOptions = ModelOptions()) throws -> any Layer {
        guard let applicable = applicableOptions[name] else {
            throw EngineError.invalid("model", "unknown model '\(name)'; known: \(names.joined(separator: ", "))")
        }
        if let extra = options.setNames.first(where: { !applicable.contains($0) }) {
            throw EngineError.invalid("model", "option '\(extra)' does not apply to \(name); it reads \(applicable.sorted().joined(separator: ", "))")
        }
        let channels = channels ?? defaultChannels(name)
        guard channels >= 1, classes >= 1 else {
            throw EngineError.invalid("model", "channels and classes must be positive, got \(channels) and \(classes)")
        }
        if let w = options.width, !(w > 0) { throw EngineError.invalid(name, "width must be positive, got \(w)") }
        if let p = options.dropout, !(p >= 0 && p < 1) { throw EngineError.invalid(name, "dropout must be in [0, 1), got \(p)") }
        if let s = options.upsample, s < 1 { throw EngineError.invalid(name, "upsample must be positive, got \(s)") }
        let width = options.width ?? 1
        let dropout = options.dropout
        func variant(_ convolution: BlockConvolution) throws -> ResNet18Variant {
            try ResNet18Variant(inChannels: channels, classes: classes, width: width, dropout: dropout ?? 0.5,
                                upsampleTo: options.upsample, convolution: convolution)
        }
        switch name {
        case "baseline":
            return ResNet18(inChannels: channels, classes: classes, width: width, dropout: dropout ?? 0.5,
                            upsampleTo: options.upsample ?? 224)
        case "resnet18":
            return ResNet18(inChannels: channels, classes: classes, width: width, dropout: dropout ?? 0.5,
                            upsampleTo: options.upsample)
        case "resnet18-grouped": return try variant(.grouped(groups: options.groups ?? 4))
        case "resnet18-dws": return try variant(.depthwiseSeparable)
        case "resnet18-lowrank": return try variant(.lowRank(rank: options.rank ?? 32))
        case "mobilenetv2":
            return try MobileNetV2(inChannels: channels, classes: classes, width: width, expansion: options.expansion ?? 6,
                                   dropout: dropout ?? 0.2)
        default:  // "pneumonet"
            return try PneumoNet(inChannels: channels, classes: classes, widths: options.widths ?? PneumoNet.defaultWidths,
                                 width: width, blocks: options.blocks ?? 1, dropout: dropout ?? 0.2)
        }
    }
}
