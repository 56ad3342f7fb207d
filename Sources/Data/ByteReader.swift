/// Little-endian reads from a byte array that throw instead of trapping when a read runs past the end,
/// because every offset and length in a zip or .npy header comes from the file and may be a lie.
struct ByteReader {
    let bytes: [UInt8]
    let file: String
    let item: String?

    init(_ bytes: [UInt8], file: String, item: String? = nil) {
        self.bytes = bytes
        self.file = file
        self.item = item
    }

    /// Checks that `[offset, offset + length)` lies inside the bytes, with overflow-checked arithmetic.
    func require(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard offset >= 0, length >= 0, !overflow, end <= bytes.count else {
            throw DataError(.truncated, file: file, item: item,
                            "\(what()) needs bytes \(offset)..<\(overflow ? "overflow" : String(end)), file has \(bytes.count)")
        }
    }

    func u16(_ offset: Int, _ what: @autoclosure () -> String) throws -> UInt16 {
        try require(offset, 2, what())
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func u32(_ offset: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try require(offset, 4, what())
        var v: UInt32 = 0
        for i in (0..<4).reversed() { v = v << 8 | UInt32(bytes[offset + i]) }
        return v
    }

    func u64(_ offset: Int, _ what: @autoclosure () -> String) throws -> UInt64 {
        try require(offset, 8, what())
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        return v
    }

    func slice(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        try require(offset, length, what())
        return bytes[offset..<(offset + length)]
    }
}

/// Appends integers in a fixed byte order: little-endian for .npy and zip, big-endian for PNG.
extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }

    mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        var v = value.bigEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}
