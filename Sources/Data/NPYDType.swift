/// The element type of an .npy array, parsed from numpy's `descr` string (`'|u1'`, `'<i8'`, `'<f4'`, …).
///
/// Byte order is kept rather than rejected: `'>'` files are rare but legal, and swapping on read is
/// cheaper than explaining to a user why their file does not load.
public struct NPYDType: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Character, Sendable {
        case bool = "b", unsignedInteger = "u", signedInteger = "i", float = "f"
    }

    public let kind: Kind
    /// Bytes per element.
    public let byteSize: Int
    /// True for `'>'`; `'<'`, `'|'` and `'='` (native, little-endian on every platform we run on) are false.
    public let bigEndian: Bool

    public init(kind: Kind, byteSize: Int, bigEndian: Bool = false) {
        self.kind = kind
        self.byteSize = byteSize
        self.bigEndian = bigEndian
    }

    public static let bool = NPYDType(kind: .bool, byteSize: 1)
    public static let uint8 = NPYDType(kind: .unsignedInteger, byteSize: 1)
    public static let int32 = NPYDType(kind: .signedInteger, byteSize: 4)
    public static let int64 = NPYDType(kind: .signedInteger, byteSize: 8)
    public static let float32 = NPYDType(kind: .float, byteSize: 4)
    public static let float64 = NPYDType(kind: .float, byteSize: 8)

    /// Parses a simple (non-structured) numpy type string. Returns nil for anything this reader cannot
    /// convert: structured dtypes, strings, complex, float16, datetimes, objects.
    public init?(descr: String) {
        var chars = Array(descr)
        var big = false
        if let first = chars.first, "<>|=".contains(first) {
            big = first == ">"
            chars.removeFirst()
        }
        guard chars.count >= 2, let kind = Kind(rawValue: chars[0]), let size = Int(String(chars[1...])) else {
            return nil
        }
        let valid: Bool = switch kind {
        case .bool: size == 1
        case .unsignedInteger, .signedInteger: [1, 2, 4, 8].contains(size)
        case .float: size == 4 || size == 8
        }
        guard valid else { return nil }
        self.init(kind: kind, byteSize: size, bigEndian: big && size > 1)
    }

    /// numpy's spelling, as written into headers.
    public var descr: String {
        (byteSize == 1 ? "|" : bigEndian ? ">" : "<") + String(kind.rawValue) + String(byteSize)
    }

    public var description: String { descr }
}
