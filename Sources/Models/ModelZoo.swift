import NN

/// The registry of the model family: one `ModelEntry` per member, which the command-line tool, the
/// trainer, checkpoints, the profiler and the optimization analysis accept by name. Adding a member is
/// adding its entry to `entries`.
public enum ModelZoo {
    public static let entries: [ModelEntry] = [
        ModelEntry(name: "baseline", summary: "the spec's ResNet-18: input resized bilinearly to 224 px, Dropout+Linear head",
                   defaultChannels: 3, reads: resnetOptions, defaults: ModelOptions(width: 1, dropout: 0.5, upsample: 224)) {
            channels, classes, o in
            ResNet18(inChannels: channels, classes: classes, width: o.width!, dropout: o.dropout!, upsampleTo: o.upsample)
        },
        ModelEntry(name: "resnet18", summary: "ResNet-18 at the native input size (no upsampling), width multiplier",
                   defaultChannels: 3, reads: resnetOptions, defaults: resnetDefaults) {
            channels, classes, o in
            ResNet18(inChannels: channels, classes: classes, width: o.width!, dropout: o.dropout!, upsampleTo: o.upsample)
        },
        ModelEntry(name: "resnet18-grouped", summary: "ResNet-18 with grouped 3×3 block convolutions (groups, default 4)",
                   defaultChannels: 3, reads: resnetOptions.union([.groups]), defaults: with(resnetDefaults) { $0.groups = 4 }) {
            try resnetVariant($0, $1, $2, .grouped(groups: $2.groups!))
        },
        ModelEntry(name: "resnet18-dws", summary: "ResNet-18 with depthwise-separable 3×3 block convolutions",
                   defaultChannels: 3, reads: resnetOptions, defaults: resnetDefaults) {
            try resnetVariant($0, $1, $2, .depthwiseSeparable)
        },
        ModelEntry(name: "resnet18-lowrank", summary: "ResNet-18 with rank-r factorized 3×3 block convolutions (rank, default 32)",
                   defaultChannels: 3, reads: resnetOptions.union([.rank]), defaults: with(resnetDefaults) { $0.rank = 32 }) {
            try resnetVariant($0, $1, $2, .lowRank(rank: $2.rank!))
        },
        ModelEntry(name: "mobilenetv2", summary: "torchvision's MobileNetV2: inverted residuals, linear bottlenecks (width, expansion)",
                   defaultChannels: 3, reads: [.width, .expansion, .dropout], defaults: ModelOptions(width: 1, expansion: 6, dropout: 0.2)) {
            channels, classes, o in
            try MobileNetV2(inChannels: channels, classes: classes, width: o.width!, expansion: o.expansion!, dropout: o.dropout!)
        },
        ModelEntry(name: "pneumonet", summary: "our stride-8 CNN for 28–64 px grayscale input (widths, blocks, width)",
                   defaultChannels: 1, reads: [.width, .widths, .blocks, .dropout],
                   defaults: ModelOptions(width: 1, dropout: 0.2, widths: PneumoNet.defaultWidths, blocks: 1)) {
            channels, classes, o in
            try PneumoNet(inChannels: channels, classes: classes, widths: o.widths!, width: o.width!, blocks: o.blocks!, dropout: o.dropout!)
        },
    ]
    // The builders unwrap only options their entry's `defaults` set (`ModelEntry.layer` fills them in).

    private static let resnetOptions: Set<ModelOptions.Name> = [.width, .dropout, .upsample]
    private static let resnetDefaults = ModelOptions(width: 1, dropout: 0.5)

    /// A ResNet-18 whose block convolutions are `convolution`.
    private static func resnetVariant(_ channels: Int, _ classes: Int, _ o: ModelOptions, _ convolution: BlockConvolution) throws -> any Layer {
        try ResNet18Variant(inChannels: channels, classes: classes, width: o.width!, dropout: o.dropout!, upsampleTo: o.upsample,
                            convolution: convolution)
    }

    private static func with(_ options: ModelOptions, _ change: (inout ModelOptions) -> Void) -> ModelOptions {
        var o = options
        change(&o)
        return o
    }

    /// The members' names, in registry order.
    public static let names = entries.map(\.name)

    /// The entry named `name`; throws for an unknown name, listing the known ones.
    public static func entry(_ name: String) throws -> ModelEntry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw EngineError.invalid("model", "unknown model '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return e
    }

    /// The input channels `name` is built for when none are given (3 for an unknown name).
    public static func defaultChannels(_ name: String) -> Int {
        entries.first { $0.name == name }?.defaultChannels ?? 3
    }

    /// Builds the member `name` (`ModelEntry.layer`). Throws for an unknown name, an option the member
    /// does not read, or an invalid option value.
    public static func layer(_ name: String, channels: Int? = nil, classes: Int = 2,
                             options: ModelOptions = ModelOptions()) throws -> any Layer {
        try entry(name).layer(channels: channels, classes: classes, options: options)
    }
}
