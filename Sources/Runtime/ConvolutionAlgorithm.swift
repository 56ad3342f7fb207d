import GraphCore

/// How fp32 plans compute convolutions: on oneDNN's direct convolution, or on one of our kernel families wherever it
/// applies (each family declares the values that force it: `KernelFamily.forcedBy`, next to its kernel), or `auto`.
/// BF16 and INT8 plans always run oneDNN's. The values, in the order `--convolutions` lists them: `direct`, then each
/// family's in `KernelFamily.registry` order, then `auto`.
public struct ConvolutionAlgorithm: RawRepresentable, Hashable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// oneDNN's direct convolution everywhere (the switch that turns our own convolutions off).
    public static let direct = ConvolutionAlgorithm(named: "direct")
    /// Each family a plan can take where it applies (each family a plan took must make the whole call faster than the same
    /// plan without it: `KernelFamily.weighed`); elsewhere, per shape, time direct against Winograd F(2×2, 3×3) and
    /// F(4×4, 3×3) (each chunked and whole; F(4×4) only where its tiles need fewer products than F(2×2)'s) when compiling
    /// (same thread count, alternating calls, caches evicted before each as weights are in a whole model); keep the
    /// fastest Winograd only when it is at least 20% faster than direct on average over two races (a second race, against
    /// direct alone, confirms a winner). Decisions are kept per process by shape, and in the `TuningCache` where one is
    /// open (`PNEUMO_WINOGRAD_VERBOSE=1` prints races).
    public static let auto = ConvolutionAlgorithm(named: "auto")

    /// For the values declared here and by the families.
    init(named name: String) { rawValue = name }

    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    public static var allCases: [ConvolutionAlgorithm] {
        // Two families may share a value (`streaming` forces both streaming families): each value once, first place kept.
        var seen = Set<String>()
        return ([.direct] + KernelFamily.registry.flatMap(\.forcedBy) + [.auto]).filter { seen.insert($0.rawValue).inserted }
    }

    public var description: String { rawValue }

    public init(option value: String) throws {
        guard let a = ConvolutionAlgorithm(rawValue: value) else {
            throw EngineError.invalid("runtime", "convolutions must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
        }
        self = a
    }
}
