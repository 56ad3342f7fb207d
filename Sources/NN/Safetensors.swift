import FileSafety
import Foundation

/// The safetensors format (readable by PyTorch's `safetensors.torch.load_file` and others): an 8-byte
/// little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`,
/// then the raw little-endian data. Only F32 tensors are written; F32, F16 and BF16 are read.
///
/// Files are treated as untrusted: the header length is bounded, every offset and byte count is
/// checked against the shape with overflow-checked arithmetic, and errors name the file and the tensor.
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
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        var entries: [(name: String, begin: Int, tensor: Tensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has invalid shape \(shape)") }
            let elementSize: Int
            switch dtype {
            case "F32": elementSize = 4
            case "F16", "BF16": elementSize = 2
            default: throw fail("tensor '\(name)' has dtype \(dtype); F32, F16 and BF16 are supported")
            }
            var count = 1
            for d in shape {
                let (m, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, m <= 1 << 34 else { throw fail("tensor '\(name)' shape \(shape) is too large") }
                count = m
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= body.count else {
                throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] lie outside the \(body.count)-byte data section")
            }
            guard end - begin == count * elementSize else {
                throw fail("tensor '\(name)' has \(end - begin) bytes but shape \(shape) × \(dtype) needs \(count * elementSize)")
            }
            var tensor = Tensor(uninitialized: shape)
            body.withUnsafeBytes { raw in
                tensor.withUnsafeMutableBufferPointer { dst in
                    let src = raw.baseAddress!.advanced(by: begin)
                    for i in 0..<count {
                        switch dtype {
                        case "F32": dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                        case "F16":
                            #if arch(x86_64) || arch(arm64)
                            dst[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                            #endif
                        default: // BF16: the upper half of a float32
                            dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                        }
                    }
                }
            }
            if tensor.hasNonFinite { throw fail("tensor '\(name)' holds NaN or Inf") }
            entries.append((name, begin, tensor))
        }
        // Keep the file's data order, which is the writer's (state_dict) order.
        entries.sort { $0.begin < $1.begin }
        return File(tensors: entries.map { ($0.name, $0.tensor) }, metadata: metadata)
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
