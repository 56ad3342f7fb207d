/// One array read from an .npy file (or an .npz member), kept as raw bytes in C (row-major) order.
///
/// The bytes are not converted at load time because the big arrays (images) are `uint8` and are used as
/// bytes; conversion to `Float` or `Int` happens on request, with the checks that conversion needs.
public struct NPYArray: Equatable, Sendable {
    public let dtype: NPYDType
    public let shape: [Int]
    /// `count * dtype.byteSize` bytes, row-major, in the dtype's byte order.
    public let bytes: [UInt8]
    /// Where the array came from, for error messages.
    public let file: String
    public let name: String?

    /// Product of `shape` (1 for a 0-d array).
    public var count: Int { shape.reduce(1, *) }

    init(dtype: NPYDType, shape: [Int], bytes: [UInt8], file: String, name: String?) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.file = file
        self.name = name
    }

    /// The elements as bytes; only for `uint8` (and `bool`) arrays, whose bytes are their values.
    public func uint8Values() throws -> [UInt8] {
        guard dtype.byteSize == 1, dtype.kind != .signedInteger else {
            throw DataError(.unsupported, file: file, item: name, "expected uint8 values, the array is \(dtype)")
        }
        return bytes
    }

    /// The elements as `Float` (float64 rounds; int64 beyond 2^24 loses precision, as in numpy's astype).
    public func floatValues() -> [Float] {
        var result = [Float](repeating: 0, count: count)
        for i in 0..<count { result[i] = Float(element(i)) }
        return result
    }

    /// The elements as `Int`. Floats must be whole numbers and every value must fit, because labels that
    /// silently round or wrap are the worst kind of data bug.
    public func integerValues() throws -> [Int] {
        var result = [Int](repeating: 0, count: count)
        for i in 0..<count {
            switch dtype.kind {
            case .float:
                let v = element(i)
                guard v.rounded() == v, let exact = Int(exactly: v) else {
                    throw DataError(.unsupported, file: file, item: name, "element \(i) is \(v), not an integer")
                }
                result[i] = exact
            case .unsignedInteger where dtype.byteSize == 8:
                let raw = rawBits(i)
                guard let exact = Int(exactly: raw) else {
                    throw DataError(.unsupported, file: file, item: name, "element \(i) is \(raw), beyond Int")
                }
                result[i] = exact
            default:
                result[i] = Int(truncatingIfNeeded: signExtended(i))
            }
        }
        return result
    }

    /// The bits of element `i`, in host order, zero-extended to 64 bits.
    private func rawBits(_ i: Int) -> UInt64 {
        let size = dtype.byteSize
        let base = i * size
        var v: UInt64 = 0
        if dtype.bigEndian {
            for k in 0..<size { v = v << 8 | UInt64(bytes[base + k]) }
        } else {
            for k in (0..<size).reversed() { v = v << 8 | UInt64(bytes[base + k]) }
        }
        return v
    }

    private func signExtended(_ i: Int) -> Int64 {
        let bits = rawBits(i)
        guard dtype.kind == .signedInteger, dtype.byteSize < 8 else { return Int64(bitPattern: bits) }
        let shift = UInt64(64 - 8 * dtype.byteSize)
        return Int64(bitPattern: bits << shift) >> Int64(shift)
    }

    /// Element `i` as a Double (exact for every integer type up to 2^53 and for both float types).
    private func element(_ i: Int) -> Double {
        switch dtype.kind {
        case .float:
            dtype.byteSize == 4 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: rawBits(i))))
                                : Double(bitPattern: rawBits(i))
        case .unsignedInteger, .bool: Double(rawBits(i))
        case .signedInteger: Double(signExtended(i))
        }
    }
}
