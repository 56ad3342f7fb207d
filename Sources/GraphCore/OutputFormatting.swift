import Foundation

extension Encodable {
    /// Pretty, key-sorted JSON with unescaped slashes: what every `--json` output and run file uses.
    public func prettyJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public func jsonString() throws -> String { String(decoding: try prettyJSON(), as: UTF8.self) }
}

extension String {
    /// Left-aligned in a column of `width` characters (one space after when it overflows), for tables.
    public func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

extension Tensor {
    /// P(class 1) of each row of two-class logits `[N, 2]`: softmax(l)[1] = σ(l₁ − l₀).
    public func positiveClassProbabilities() throws -> [Double] {
        guard rank == 2, shape[1] == 2 else {
            throw EngineError.shape("probabilities", "expected two-class logits [N, 2], got \(describe(shape))")
        }
        let l = scalars
        return (0..<shape[0]).map { 1 / (1 + exp(Double(l[2 * $0] - l[2 * $0 + 1]))) }
    }
}
