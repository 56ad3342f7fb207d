/// `|actual − expected| ≤ abs + rel·|expected|`, element by element: the bound every fixture and peer
/// comparison states next to its test.
public struct Tolerance: CustomStringConvertible, Sendable {
    public var abs: Double
    public var rel: Double
    public init(abs: Double, rel: Double) { self.abs = abs; self.rel = rel }

    /// Bit-for-bit (a round trip that must not change a value).
    public static let exact = Tolerance(abs: 0, rel: 0)

    public func admits(_ actual: Double, _ expected: Double) -> Bool {
        Swift.abs(actual - expected) <= abs + rel * Swift.abs(expected)
    }

    public var description: String { "abs \(abs) + rel \(rel)" }
}
