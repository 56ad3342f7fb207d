/// How many convolution steps a plan runs on each of our kernel families' counts (`KernelFamily.counts`: `winograd`,
/// `f4x4`, `streaming`, `depthwise`, `separable`), and of all convolution steps (a separable step is one step for two
/// convolutions). `counts.streaming` reads a count by name; a name no family declares is a programming error.
@dynamicMemberLookup
public struct ConvolutionCounts: Sendable, Equatable, Encodable {
    /// All convolution steps.
    public let all: Int
    /// By `KernelCount.name`.
    public let byName: [String: Int]

    /// Counts `implementations` (a plan's convolution steps' implementation names) by every family's counts.
    init(implementations: [String]) {
        all = implementations.count
        var counts: [String: Int] = [:]
        for count in KernelFamily.registry.flatMap(\.counts) { counts[count.name] = implementations.filter { $0.hasPrefix(count.prefix) }.count }
        byName = counts
    }

    public subscript(dynamicMember name: String) -> Int {
        guard let n = byName[name] else { preconditionFailure("no kernel family counts '\(name)'") }
        return n
    }

    /// ", 9/20 convolutions winograd, 3 streaming": what a plan's summary says of its convolutions.
    var summary: String { phrases(headline: "convolutions") { style, n in if case .whenAny(let s?, _) = style { s(n) } else { nil } } }

    /// ", 9/20 convs winograd (2 F(4×4)), 3 streaming": what `pneumo bench infer` prints in its plan column.
    public var benchSummary: String { phrases(headline: "convs") { style, n in if case .whenAny(_, let b) = style { b(n) } else { nil } } }

    private func phrases(headline noun: String, _ phrase: (KernelCount.Style, Int) -> String?) -> String {
        KernelFamily.registry.flatMap(\.counts).map { count in
            let n = byName[count.name] ?? 0
            if case .headline = count.style { return ", \(n)/\(all) \(noun) \(count.name)" }
            return n > 0 ? phrase(count.style, n) ?? "" : ""
        }.joined()
    }

    /// One key per count (`KernelCount.jsonKey`) and `convolutions` for all: the keys of a `bench infer --json` row.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for count in KernelFamily.registry.flatMap(\.counts) { try c.encode(byName[count.name] ?? 0, forKey: Key(count.jsonKey)) }
        try c.encode(all, forKey: Key("convolutions"))
    }

    private struct Key: CodingKey {
        let stringValue: String
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}
