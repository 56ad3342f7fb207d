import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The protocol's binary tensor data extension: a body is `Inference-Header-Content-Length` bytes of JSON, then each
/// binary tensor's raw bytes (row-major, little-endian) in the order the JSON names them, each sized by its
/// `binary_data_size` parameter. It saves clients the JSON text of every number; Triton's clients use it by default.
enum BinaryTensorData {
    static let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// The JSON header and the binary rest of a body (nil without the header field: all of it is JSON).
    static func split(_ body: ByteBuffer, headerLength field: String?) throws -> (json: ByteBuffer, binary: ByteBuffer?) {
        guard let field else { return (body, nil) }
        guard let n = Int(field) ?? Int(field.trimmingCharacters(in: .whitespaces)), n >= 0, n <= body.readableBytes else {
            throw ServeError.badRequest("Inference-Header-Content-Length is '\(field)'; the body has \(body.readableBytes) bytes")
        }
        return (body.getSlice(at: body.readerIndex, length: n)!, body.getSlice(at: body.readerIndex + n, length: body.readableBytes - n))
    }

    /// An input's values: its JSON `data`, or its `binary_data_size` bytes of the binary part (one input per request).
    static func values(of input: RequestInput, binary: ByteBuffer?) throws -> [Float] {
        let size = input.parameters?["binary_data_size"]
        switch (input.data, size) {
        case (let data?, nil): return data.values
        case (nil, let size?):
            guard let bytes = size.int else { throw ServeError.badRequest("input '\(input.name)' binary_data_size is not a byte count") }
            guard let binary, binary.readableBytes == bytes else {
                throw ServeError.badRequest("input '\(input.name)' declares \(bytes) binary bytes; the body has \(binary?.readableBytes ?? 0) after its JSON header")
            }
            guard bytes % 4 == 0 else { throw ServeError.badRequest("input '\(input.name)' has \(bytes) binary bytes, not a whole number of FP32 values") }
            let values = [Float](unsafeUninitializedCapacity: bytes / 4) { dst, count in
                binary.withUnsafeReadableBytes { src in UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<bytes])) }
                count = bytes / 4
            }
            #if _endian(little)
            return values
            #else
            return values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
        case (nil, nil): throw ServeError.badRequest("input '\(input.name)' has neither data nor binary_data_size")
        case (_?, _?): throw ServeError.badRequest("input '\(input.name)' has both data and binary_data_size")
        }
    }

    /// A response whose outputs' data follow its JSON as binary.
    static func response(_ answer: InferenceResponse, tensors: [[Float]]) throws -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256 + 4 * tensors.reduce(0) { $0 + $1.count })
        try InferenceResponseWriter.write(answer, into: &buffer)
        let header = buffer.readableBytes
        for t in tensors { for v in t { buffer.writeInteger(v.bitPattern, endianness: .little) } }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[headerLength] = String(header)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
