import GraphCore
import Foundation

/// A tensor read from a file (initializer or `Constant`), before it becomes a parameter or a shape:
/// floats (float32, float16, bfloat16 and float64 widen or narrow to Float) or integers (int8…int64, bool).
struct ConstantTensor: Sendable {
    enum Values: Sendable {
        case floats([Float])
        case ints([Int64])
    }

    var shape: [Int]
    var values: Values
    /// The file's element type (`TensorProto.data_type`), which the values alone do not tell apart (an int8
    /// from a uint8 zero point); nil for a value computed at import.
    var elementType: ONNXDataType? = nil

    var count: Int {
        switch values {
        case .floats(let v): v.count
        case .ints(let v): v.count
        }
    }

    var floats: [Float]? { if case .floats(let v) = values { v } else { nil } }
    var ints: [Int64]? { if case .ints(let v) = values { v } else { nil } }

    func tensor() throws -> Tensor {
        guard let floats else { throw ONNXError(.unsupported, "", "expects a float tensor, got integers") }
        return try Tensor(shape: shape, scalars: floats)
    }
}

/// ONNX `TensorProto.DataType` numbers this translator reads, with their element sizes.
enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    var byteSize: Int? {
        switch self {
        case .float, .int32, .uint32: 4
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .int64, .double, .uint64: 8
        case .string: nil
        }
    }

    var isFloat: Bool { [.float, .float16, .bfloat16, .double].contains(self) }
    /// Types whose values travel in `int32_data` when not raw (the proto's rule for narrow types).
    var usesInt32Field: Bool { [.int32, .int16, .int8, .uint8, .uint16, .bool, .float16, .bfloat16].contains(self) }

    static func name(_ raw: Int32) -> String {
        let names: [Int32: String] = [0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32",
                                      7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32",
                                      13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN",
                                      18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
                                      23: "FLOAT4E2M1"]
        return names[raw] ?? "type \(raw)"
    }
}

/// Element count of `shape` with overflow-checked arithmetic, or nil past `limit`.
func checkedCount(_ shape: [Int], limit: Int) -> Int? {
    var count = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (m, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, m <= limit else { return nil }
        count = m
    }
    return count
}

/// Decodes `TensorProto`s with every length checked against the shape, and external data read only from
/// regular files whose real path lies inside the model's directory.
struct TensorDecoder {
    let limits: ONNXLimits
    /// The directory external data must resolve into; nil refuses external data (model given as bytes).
    let modelDirectory: URL?

    func decode(_ t: Onnx_TensorProto, _ what: String) throws -> ConstantTensor {
        func fail(_ kind: ONNXError.Kind, _ m: String) -> ONNXError { ONNXError(kind, what, m) }
        guard !t.hasSegment else { throw fail(.unsupported, "segmented tensors are not supported") }
        guard t.dims.count <= limits.maxRank else {
            throw fail(.limit, "rank \(t.dims.count) exceeds the limit of \(limits.maxRank)")
        }
        guard t.dims.allSatisfy({ $0 >= 0 }) else { throw fail(.malformed, "negative dimension in \(t.dims)") }
        guard t.dims.allSatisfy({ $0 <= Int64(limits.maxTensorElements) }),
              let count = checkedCount(t.dims.map { Int($0) }, limit: limits.maxTensorElements) else {
            throw fail(.limit, "shape \(t.dims) has more than \(limits.maxTensorElements) elements")
        }
        let shape = t.dims.map { Int($0) }
        guard let type = ONNXDataType(rawValue: t.dataType) else {
            throw fail(.unsupported, "data type \(ONNXDataType.name(t.dataType)) is not supported")
        }
        guard let size = type.byteSize else { throw fail(.unsupported, "string tensors are not supported") }
        let byteCount = count * size  // ≤ 2^28 · 8: no overflow

        let external = t.dataLocation == .external
        let sources = [("raw_data", t.hasRawData), ("float_data", !t.floatData.isEmpty), ("int32_data", !t.int32Data.isEmpty),
                       ("int64_data", !t.int64Data.isEmpty), ("double_data", !t.doubleData.isEmpty),
                       ("uint64_data", !t.uint64Data.isEmpty), ("string_data", !t.stringData.isEmpty),
                       ("external_data", external)].filter(\.1).map(\.0)
        guard sources.count <= 1 else { throw fail(.malformed, "data given twice (\(sources.joined(separator: " and ")))") }
        if !external, !t.externalData.isEmpty { throw fail(.malformed, "external_data entries without data_location EXTERNAL") }

        var raw: Data?
        switch sources.first {
        case nil:
            guard count == 0 else { throw fail(.malformed, "no data for shape \(shape) (\(count) elements)") }
            raw = Data()
        case "raw_data":
            raw = t.rawData
        case "external_data":
            raw = try readExternal(t, byteCount: byteCount, what)
        default:
            break
        }
        if let raw {
            guard raw.count == byteCount else {
                throw fail(.malformed, "\(raw.count) data bytes, but shape \(shape) of \(ONNXDataType.name(t.dataType)) needs \(byteCount)")
            }
            return ConstantTensor(shape: shape, values: decodeRaw(raw, type: type, count: count), elementType: type)
        }
        // Typed repeated fields: the field must be the one the data type uses, with one entry per element.
        func expect(_ field: String, _ n: Int) throws {
            guard sources.first == field else {
                throw fail(.malformed, "\(ONNXDataType.name(t.dataType)) data stored in \(sources.first!)")
            }
            guard n == count else { throw fail(.malformed, "\(n) values in \(field), but shape \(shape) needs \(count)") }
        }
        switch type {
        case .float:
            try expect("float_data", t.floatData.count)
            return ConstantTensor(shape: shape, values: .floats(t.floatData), elementType: type)
        case .double:
            try expect("double_data", t.doubleData.count)
            return ConstantTensor(shape: shape, values: .floats(t.doubleData.map { Float($0) }), elementType: type)
        case .int64:
            try expect("int64_data", t.int64Data.count)
            return ConstantTensor(shape: shape, values: .ints(t.int64Data), elementType: type)
        case .float16, .bfloat16:
            try expect("int32_data", t.int32Data.count)
            return ConstantTensor(shape: shape, values: .floats(t.int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0), bfloat: type == .bfloat16) }),
                                  elementType: type)
        case _ where type.usesInt32Field:
            try expect("int32_data", t.int32Data.count)
            return ConstantTensor(shape: shape, values: .ints(t.int32Data.map { Int64($0) }), elementType: type)
        default:
            throw fail(.unsupported, "data type \(ONNXDataType.name(t.dataType)) is not supported")
        }
    }

    private func decodeRaw(_ raw: Data, type: ONNXDataType, count: Int) -> ConstantTensor.Values {
        raw.withUnsafeBytes { (p: UnsafeRawBufferPointer) -> ConstantTensor.Values in
            func le<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                T(littleEndian: p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            switch type {
            case .float: return .floats((0..<count).map { Float(bitPattern: le($0, UInt32.self)) })
            case .double: return .floats((0..<count).map { Float(Double(bitPattern: le($0, UInt64.self))) })
            case .float16: return .floats((0..<count).map { halfToFloat(le($0, UInt16.self), bfloat: false) })
            case .bfloat16: return .floats((0..<count).map { halfToFloat(le($0, UInt16.self), bfloat: true) })
            case .int64: return .ints((0..<count).map { le($0, Int64.self) })
            case .int32: return .ints((0..<count).map { Int64(le($0, Int32.self)) })
            case .int16: return .ints((0..<count).map { Int64(le($0, Int16.self)) })
            case .uint16: return .ints((0..<count).map { Int64(le($0, UInt16.self)) })
            case .int8: return .ints((0..<count).map { Int64(Int8(bitPattern: p[$0])) })
            case .uint8, .bool: return .ints((0..<count).map { Int64(p[$0]) })
            case .uint32: return .ints((0..<count).map { Int64(le($0, UInt32.self)) })
            case .uint64: return .ints((0..<count).map { Int64(bitPattern: le($0, UInt64.self)) })
            case .string: return .ints([])
            }
        }
    }

    /// Reads `location` (relative to the model's directory), `offset`, `length` from the file. The real path
    /// (symlinks resolved) must lie inside the real path of the model's directory and be a regular file.
    private func readExternal(_ t: Onnx_TensorProto, byteCount: Int, _ what: String) throws -> Data {
        func fail(_ m: String) -> ONNXError { ONNXError(.externalData, what, m) }
        var location: String?, offset = 0, length: Int?
        var seen: Set<String> = []
        for entry in t.externalData {
            guard seen.insert(entry.key).inserted else { throw fail("key '\(entry.key)' given twice") }
            switch entry.key {
            case "location": location = entry.value
            case "offset", "length":
                guard let v = Int(entry.value), v >= 0 else { throw fail("\(entry.key) '\(entry.value)' is not a non-negative integer") }
                if entry.key == "offset" { offset = v } else { length = v }
            case "checksum": break
            default: throw fail("unknown external_data key '\(entry.key)'")
            }
        }
        guard let location, !location.isEmpty else { throw fail("external data without a location") }
        guard let directory = modelDirectory else {
            throw fail("external data '\(location)' refused: the model was not read from a file, so there is no directory to resolve it in")
        }
        guard !location.hasPrefix("/"), !location.contains("\0"), !location.contains("\\") else {
            throw fail("external data location '\(location)' must be a relative path inside the model's directory")
        }
        guard let base = realPath(directory.path) else { throw fail("cannot resolve the model's directory \(directory.path)") }
        let candidate = directory.appendingPathComponent(location).path
        guard let resolved = realPath(candidate) else {
            throw fail("external data file '\(location)' does not exist (looked for \(candidate))")
        }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard resolved.hasPrefix(prefix) else {
            throw fail("external data '\(location)' resolves to \(resolved), outside the model's directory \(base); refused")
        }
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw fail("external data '\(location)' is not a regular file")
        }
        let fileSize = Int(info.st_size)
        let want = length ?? byteCount
        guard want == byteCount else { throw fail("length \(want) bytes, but the shape needs \(byteCount)") }
        let (end, overflow) = offset.addingReportingOverflow(want)
        guard !overflow, end <= fileSize else {
            throw fail("bytes \(offset)..<\(offset &+ want) lie outside '\(location)' (\(fileSize) bytes)")
        }
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: resolved))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: want) ?? Data()
            guard data.count == want else { throw fail("short read from '\(location)'") }
            return data
        } catch let e as ONNXError {
            throw e
        } catch {
            throw fail("cannot read '\(location)': \(error.localizedDescription)")
        }
    }
}

/// `realpath(3)`: the absolute path with every symlink, `.` and `..` resolved; nil when it does not exist.
func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// IEEE half (or bfloat16, the upper half of a float32) to Float.
func halfToFloat(_ bits: UInt16, bfloat: Bool) -> Float {
    if bfloat { return Float(bitPattern: UInt32(bits) << 16) }
    let sign = UInt32(bits >> 15) << 31
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        let v = Float(mantissa) * 0x1p-24  // subnormal (or zero)
        return sign != 0 ? -v : v
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}

/// An FLOAT `TensorProto` holding `tensor`'s logical row-major elements as little-endian raw data.
func tensorProto(name: String, _ tensor: Tensor) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = tensor.shape.map { Int64($0) }
    t.dataType = ONNXDataType.float.rawValue
    var raw = Data(capacity: tensor.count * 4)
    for v in tensor.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
    t.rawData = raw
    return t
}

/// An INT8, UINT8 or INT32 `TensorProto` (quantized weights and zero points): `values` row-major in `shape`,
/// each within the type's range, as little-endian raw data.
func integerTensorProto(name: String, _ values: [Int32], shape: [Int], type: ONNXDataType) -> Onnx_TensorProto {
    precondition([.int8, .uint8, .int32].contains(type), "integerTensorProto: \(type)")
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = type.rawValue
    var raw = Data(capacity: values.count * type.byteSize!)
    for v in values {
        switch type {
        case .int8: raw.append(UInt8(bitPattern: Int8(v)))
        case .uint8: raw.append(UInt8(v))
        default: withUnsafeBytes(of: v.littleEndian) { raw.append(contentsOf: $0) }
        }
    }
    t.rawData = raw
    return t
}

/// An INT64 `TensorProto` (shape constants).
func int64TensorProto(name: String, _ values: [Int], shape: [Int]? = nil) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = (shape ?? [values.count]).map { Int64($0) }
    t.dataType = ONNXDataType.int64.rawValue
    var raw = Data(capacity: values.count * 8)
    for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { raw.append(contentsOf: $0) } }
    t.rawData = raw
    return t
}
