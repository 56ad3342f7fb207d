import NN

/// One member of the model family as the registry (`ModelZoo.entries`) holds it: its name, a line that
/// says what it is, the options it reads with their defaults, and how to build it.
public struct ModelEntry: Sendable {
    /// What a builder gets: the input channels and classes, and the options with the entry's defaults filled in.
    public typealias Builder = @Sendable (_ channels: Int, _ classes: Int, _ options: ModelOptions) throws -> any Layer

    /// The name the command-line tool, checkpoints and spec files use.
    public let name: String
    /// One line, for help texts and reports.
    public let summary: String
    /// Input channels when none are given: 1 (grayscale) for members built for X-rays, 3 (the gray image
    /// replicated, as the spec's baseline) for the ImageNet-derived ones.
    public let defaultChannels: Int
    /// The options the member reads, sorted by name.
    public let reads: [ModelOptions.Name]
    /// The value each option takes when it is not given. An option the member reads may have none
    /// (`upsample` of `resnet18`: no resize).
    public let defaults: ModelOptions
    let build: Builder

    /// `reads` must include every option `defaults` sets.
    public init(name: String, summary: String, defaultChannels: Int, reads: Set<ModelOptions.Name>, defaults: ModelOptions,
                build: @escaping Builder) {
        precondition(Set(defaults.given).isSubset(of: reads), "\(name): a default for an option it does not read")
        self.name = name; self.summary = summary; self.defaultChannels = defaultChannels
        self.reads = reads.sorted(); self.defaults = defaults; self.build = build
    }

    /// Builds the member with `channels` input channels (default: `defaultChannels`). Throws for an option
    /// it does not read and for an invalid value, naming the option.
    public func layer(channels: Int? = nil, classes: Int = 2, options: ModelOptions = ModelOptions()) throws -> any Layer {
        if let extra = options.given.first(where: { !reads.contains($0) }) {
            throw EngineError.invalid("model", "option '\(extra.rawValue)' does not apply to \(name); it reads \(reads.map(\.rawValue).joined(separator: ", "))")
        }
        let channels = channels ?? defaultChannels
        guard channels >= 1, classes >= 1 else {
            throw EngineError.invalid("model", "channels and classes must be positive, got \(channels) and \(classes)")
        }
        // Checks every member would repeat; the rest are the layers' own, at construction.
        if let w = options.width, !(w > 0) { throw EngineError.invalid(name, "width must be positive, got \(w)") }
        if let p = options.dropout, !(p >= 0 && p < 1) { throw EngineError.invalid(name, "dropout must be in [0, 1), got \(p)") }
        if let s = options.upsample, s < 1 { throw EngineError.invalid(name, "upsample must be positive, got \(s)") }
        return try build(channels, classes, options.filled(from: defaults))
    }
}
