import Foundation
import SwiftProtobuf

/// A field sent with another wire type than its declaration's is not an error to protobuf: the decoder keeps
/// it as an unknown field and the declared field reads as unset. That would turn a corrupted file into a
/// confusing "missing" error later (or, for an optional field, silently into its default), so each message
/// the importer reads is checked here: an unknown field whose number the message declares is a wrong type.
///
/// Which numbers a message declares is found by asking the decoder itself (a one-field probe per other wire
/// type), so no table can drift from the generated code; unknown numbers (fields of a newer ONNX) pass.
func checkFieldTypes<M: Message>(_ message: M, _ what: String) throws {
    let unknown = message.unknownFields.data
    guard !unknown.isEmpty else { return }
    guard let fields = parseTags(unknown) else {
        throw ONNXError(.malformed, what, "unreadable unknown fields in \(M.protoMessageName)")
    }
    for (number, wireType) in fields {
        for probe in [0, 1, 2, 5] where probe != wireType {
            var bytes = varint(UInt64(number) << 3 | UInt64(probe))
            switch probe {
            case 0: bytes.append(0)
            case 1: bytes += [UInt8](repeating: 0, count: 8)
            case 2: bytes.append(0)
            default: bytes += [UInt8](repeating: 0, count: 4)
            }
            if let decoded = try? M(serializedBytes: bytes), decoded.unknownFields.data.isEmpty {
                throw ONNXError(.malformed, what, "field \(number) of \(M.protoMessageName) has wire type \(wireTypeName(wireType)), but it is declared as \(wireTypeName(probe))")
            }
        }
    }
}

private func wireTypeName(_ t: Int) -> String {
    switch t {
    case 0: "varint"
    case 1: "fixed64"
    case 2: "length-delimited"
    case 3, 4: "group"
    case 5: "fixed32"
    default: "\(t)"
    }
}

private func varint(_ v: UInt64) -> [UInt8] {
    var v = v, out: [UInt8] = []
    while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    out.append(UInt8(v))
    return out
}

/// The (field number, wire type) of each top-level field in serialized protobuf bytes (group contents skipped).
private func parseTags(_ data: Data) -> [(Int, Int)]? {
    let bytes = [UInt8](data)
    var i = 0, result: [(Int, Int)] = [], groupDepth = 0
    func readVarint() -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < bytes.count, shift < 64 {
            let b = bytes[i]; i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }
    while i < bytes.count {
        guard let tag = readVarint() else { return nil }
        let number = Int(truncatingIfNeeded: tag >> 3), wireType = Int(tag & 7)
        if groupDepth == 0 && wireType != 4 { result.append((number, wireType)) }
        switch wireType {
        case 0: guard readVarint() != nil else { return nil }
        case 1: i += 8
        case 2:
            guard let n = readVarint(), n <= UInt64(bytes.count - i) else { return nil }
            i += Int(n)
        case 3: groupDepth += 1
        case 4: groupDepth -= 1; if groupDepth < 0 { return nil }
        case 5: i += 4
        default: return nil
        }
        if i > bytes.count { return nil }
    }
    return result
}
