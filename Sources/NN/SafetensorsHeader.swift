import Foundation

extension Safetensors {
    /// One tensor as the header describes it; `begin..<end` are byte offsets into the data section.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    /// The header's tensors, sorted by their data offsets, and its `__metadata__`, checked as the format's
    /// reference reader checks them (huggingface/safetensors `Metadata::validate` and `read_metadata`): every
    /// tensor's byte count is its shape times its element size, and the tensors, in offset order, tile the
    /// data section exactly — no gap, no overlap, nothing past its end and no bytes left over. A file that
    /// breaks a rule is refused with the tensor it concerns, since its values would otherwise be read from
    /// another tensor's bytes (or from none).
    static func parseHeader(_ headerData: Data, dataSectionBytes: Int, fail: (String) -> Error) throws
        -> (entries: [Entry], metadata: [String: String]) {
        guard headerData.first == UInt8(ascii: "{"),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            entries.append(try entry(name, value, dataSectionBytes: dataSectionBytes, fail: fail))
        }
        // Ties broken by name, so that an error names the same pair whatever order the header's dictionary gives.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        for (i, e) in entries.enumerated() {
            if e.begin < covered {
                let previous = entries[i - 1]
                throw fail("tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] overlap tensor '\(previous.name)' [\(previous.begin), \(previous.end)]")
            }
            if e.begin > covered {
                throw fail("bytes [\(covered), \(e.begin)) of the data section belong to no tensor (a gap before tensor '\(e.name)')")
            }
            covered = e.end
        }
        guard covered == dataSectionBytes else {
            throw fail("the data section has \(dataSectionBytes) bytes but its tensors cover \(covered) (bytes after the last tensor\(entries.last.map { ", '\($0.name)'," } ?? "") belong to no tensor)")
        }
        return (entries, metadata)
    }

    /// A tensor's header entry, checked on its own: a known dtype, a valid shape, offsets inside the data
    /// section whose span is exactly the shape's byte count (overflow-checked).
    private static func entry(_ name: String, _ value: Any, dataSectionBytes: Int, fail: (String) -> Error) throws -> Entry {
        guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
              let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
            throw fail("tensor '\(name)' lacks dtype, shape or data_offsets")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw fail("tensor '\(name)' has dtype \(dtypeName); supported: \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has invalid shape \(shape)") }
        var count = 1
        for d in shape {
            let (m, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, m <= 1 << 34 else { throw fail("tensor '\(name)' shape \(shape) is too large") }
            count = m
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, end >= begin, end <= dataSectionBytes else {
            throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] lie outside the \(dataSectionBytes)-byte data section")
        }
        guard end - begin == count * dtype.size else {
            throw fail("tensor '\(name)' has \(end - begin) bytes but shape \(shape) × \(dtypeName) needs \(count * dtype.size)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
    }
}
