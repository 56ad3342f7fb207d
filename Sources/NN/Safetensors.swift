import FileSafety
import Foundation

/// The safetensors format (readable by PyTorch's `safetensors.torch.load_file` and others): an 8-byte
/// little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`,
/// then the raw little-endian data. Only F32 tensors are written; every integer and float type but the 8-bit floats
/// is read, as float32 (`DType`), so that PyTorch's state dicts (F16 or BF16 weights, I64 `num_batches_tracked`) load.
///
/// Files are treated as untrusted: the header length is bounded, every offset and byte count is
/// checked against the shape with overflow-checked arithmetic, the tensors must tile the data section exactly
/// (`parseHeader`), and errors name the file and the tensor.
public enum Safetensors {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
        public init(path: String, message: String) { self.path = path; self.message = message }
    }

    /// The largest header accepted (the format's reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    public struct File {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]
        /// Each tensor's element type in the file (every tensor is read as float32).
        public var dtypes: [String: DType] = [:]
        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    public static func read(_ url: URL) throws -> File {
        let path = url.path
        func fail(_ m: String) -> Error { Error(path: path, message: m) }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw fail("cannot read file (\(error.localizedDescription))")
        }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, no header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(maxHeaderBytes), Int(headerLength) <= data.count - 8 else {
            throw fail("header length \(headerLength) exceeds the file (\(data.count) bytes) or the 100 MB limit")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        let (entries, metadata) = try parseHeader(headerData, dataSectionBytes: body.count, fail: fail)
        var tensors: [(name: String, tensor: Tensor)] = []
        var dtypes: [String: DType] = [:]
        for e in entries {
            var tensor = Tensor(uninitialized: e.shape)
            if e.count > 0 { body.withUnsafeBytes { raw in
                tensor.withUnsafeMutableBufferPointer { e.dtype.decode(raw.baseAddress!.advanced(by: e.begin), into: $0) }
            } }
            if e.dtype.isFloatingPoint, tensor.hasNonFinite {
                throw fail("tensor '\(e.name)' holds NaN or Inf" + (e.dtype == .f64 ? " (or a value beyond float32's range)" : ""))
            }
            tensors.append((e.name, tensor))
            dtypes[e.name] = e.dtype
        }
        // In the file's data order, which is the writer's (state_dict) order.
        return File(tensors: tensors, metadata: metadata, dtypes: dtypes)
    }

    /// Writes F32 tensors in the given order; the file appears whole or not at all (temp file, then rename).
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.byteCount]]
            offset += t.byteCount
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to an 8-byte multiple, as the reference writer does (aligned data).
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors {
            // Every platform Swift targets here is little-endian, the format's byte order.
            t.contiguous().withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!)
                .assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        }
        try AtomicFile.write(out, to: url)
    }
}
