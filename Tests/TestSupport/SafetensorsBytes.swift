// safetensors files built by hand from the format's layout (8-byte little-endian header length, JSON header, data),
// independently of NN's reader and writer: mixed element types and malformed offsets that our writer never writes.

/// One tensor of a hand-built file: its `dtype` string as the format spells it, and its raw little-endian bytes.
public struct SafetensorsTensor: Sendable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    public var data: [UInt8]
    /// `data_offsets` to declare instead of the tensor's place in the data section (gaps, overlaps).
    public var offsets: (Int, Int)?

    public init(_ name: String, _ dtype: String, _ shape: [Int], _ data: [UInt8], offsets: (Int, Int)? = nil) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.data = data; self.offsets = offsets
    }

    /// F32 values.
    public static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> Self {
        Self(name, "F32", shape, values.flatMap { bytes($0.bitPattern) })
    }

    /// F16 bit patterns (binary16).
    public static func f16(_ name: String, _ shape: [Int], bits: [UInt16]) -> Self { Self(name, "F16", shape, bits.flatMap { bytes($0) }) }

    /// F16 of values that binary16 holds exactly (zero, or normal with at most 11 significant bits: `k / 1024` for
    /// |k| < 2048), encoded from their float32 bits; anything else is a mistake in the test.
    public static func f16(_ name: String, _ shape: [Int], exactly values: [Float]) -> Self {
        f16(name, shape, bits: values.map { v in
            if v == 0 { return v.sign == .minus ? 0x8000 : 0 }
            let b = v.bitPattern, exponent = Int((b >> 23) & 0xFF) - 127
            precondition(exponent >= -14 && exponent <= 15 && b & 0x1FFF == 0, "\(v) is not exact in binary16")
            return UInt16(b >> 16 & 0x8000) | UInt16(exponent + 15) << 10 | UInt16(b >> 13 & 0x3FF)
        })
    }

    /// I64 values (PyTorch's `num_batches_tracked`).
    public static func i64(_ name: String, _ shape: [Int], _ values: [Int64]) -> Self { Self(name, "I64", shape, values.flatMap { bytes($0) }) }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// The file: the header names the tensors in the given order, their data follows in that order, then `trailing`.
/// The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
public func safetensorsBytes(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:], trailing: [UInt8] = []) -> [UInt8] {
    var fields: [String] = []
    if !metadata.isEmpty {
        fields.append("\"__metadata__\":{" + metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}")
    }
    var data: [UInt8] = []
    for t in tensors {
        let (begin, end) = t.offsets ?? (data.count, data.count + t.data.count)
        data += t.data
        fields.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(end)]}")
    }
    var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    return SafetensorsTensor.bytes(UInt64(header.count)) + header + data + trailing
}
