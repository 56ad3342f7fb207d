/// A request tensor's `data`: numbers, flat or nested as deep as the shape, flattened row-major as they arrive.
/// Anything else (strings, booleans, null, objects) is refused with the position of the first bad element.
public struct TensorData: Decodable, Sendable {
    public private(set) var values: [Float] = []

    public init(values: [Float]) { self.values = values }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        try Self.flatten(&container, into: &values, depth: 1)
    }

    /// Arrays nested deeper than any tensor the server takes are refused before they can exhaust the stack.
    static let maximumDepth = 8

    private static func flatten(_ c: inout any UnkeyedDecodingContainer, into values: inout [Float], depth: Int) throws {
        if let n = c.count { values.reserveCapacity(values.count + n) }
        while !c.isAtEnd {
            if let x = try? c.decode(Double.self) {
                values.append(Float(x))
                continue
            }
            guard depth < maximumDepth, var inner = try? c.nestedUnkeyedContainer() else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                    debugDescription: depth < maximumDepth ? "element \(c.currentIndex) of data is not a number"
                                                           : "data is nested deeper than \(maximumDepth) levels"))
            }
            try flatten(&inner, into: &values, depth: depth + 1)
        }
    }
}
