import NIOCore

/// `InferenceResponse` as JSON, written straight into a `ByteBuffer`: the same document `JSONEncoder` makes of it
/// (the tests decode one and compare), without its per-request encoder and intermediate `Data`. Floats are written
/// in Swift's shortest round-trip form (`0.1`, `-0.0`, `1e-45`, `3.4028235e+38`), which JSON reads back exactly.
enum InferenceResponseWriter {
    /// Non-finite outputs have no JSON form; like `JSONEncoder`, the writer refuses them (a 500: the model's fault).
    static func write(_ response: InferenceResponse, into buffer: inout ByteBuffer) throws {
        buffer.writeStaticString("{\"model_name\":")
        string(response.model_name, into: &buffer)
        if let v = response.model_version {
            buffer.writeStaticString(",\"model_version\":")
            string(v, into: &buffer)
        }
        if let id = response.id {
            buffer.writeStaticString(",\"id\":")
            string(id, into: &buffer)
        }
        buffer.writeStaticString(",\"outputs\":[")
        for (k, o) in response.outputs.enumerated() {
            if k > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{\"name\":")
            string(o.name, into: &buffer)
            buffer.writeStaticString(",\"shape\":[")
            for (i, d) in o.shape.enumerated() {
                if i > 0 { buffer.writeStaticString(",") }
                buffer.writeString(String(d))
            }
            buffer.writeStaticString("],\"datatype\":")
            string(o.datatype, into: &buffer)
            if let parameters = o.parameters {
                buffer.writeStaticString(",\"parameters\":{")
                for (i, key) in parameters.keys.sorted().enumerated() {
                    if i > 0 { buffer.writeStaticString(",") }
                    string(key, into: &buffer)
                    buffer.writeStaticString(":")
                    buffer.writeString(String(parameters[key]!))
                }
                buffer.writeStaticString("}")
            }
            if let data = o.data {
                buffer.writeStaticString(",\"data\":[")
                for (i, v) in data.enumerated() {
                    guard v.isFinite else { throw ServeError(.internalServerError, "output '\(o.name)' value \(i) is \(v), which JSON cannot carry") }
                    if i > 0 { buffer.writeStaticString(",") }
                    buffer.writeString(v.description)
                }
                buffer.writeStaticString("]")
            }
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]}")
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as its UTF-8.
    static func string(_ s: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\"")
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, b) in utf8.enumerated() where b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 {
                buffer.writeBytes(UnsafeBufferPointer(rebasing: utf8[start..<i]))
                switch b {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
                start = i + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        buffer.writeStaticString("\"")
    }
}
