import Foundation
import GraphCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport
@testable import Serve

/// The binary tensor data extension: JSON header, then raw little-endian FP32, both ways.
@Suite("Serving: binary tensors", .ownThread) struct BinaryTensorDataTests {
    static func body(_ values: [Float], shape: [Int], declaredBytes: Int? = nil, binaryOutput: Bool = true) -> (ByteBuffer, HTTPFields) {
        let header = "{\"inputs\":[{\"name\":\"image\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":\(declaredBytes ?? values.count * 4)}}],"
            + "\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":\(binaryOutput)}}]}"
        var buffer = ByteBuffer(string: header)
        for v in values { buffer.writeInteger(v.bitPattern, endianness: .little) }
        return (buffer, [.contentType: "application/octet-stream", BinaryTensorData.headerLength: String(header.utf8.count)])
    }

    @Test func binaryInAndOutMatchesTheRuntime() async throws {
        let model = try servedPneumoNet()
        let server = try testServer(models: [model])
        let images = testImages(2, seed: 21)
        let expected = try model.runtime.run(images).contiguous().scalars
        try await server.application().test(.live) { client in
            let (body, headers) = Self.body(images.contiguous().scalars, shape: images.shape)
            let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: headers, body: body)
            #expect(r.status == .ok, "\(errorMessage(r))")
            let n = try #require(r.headers[BinaryTensorData.headerLength].flatMap(Int.init))
            let answer = try JSONDecoder().decode(InferenceResponse.self, from: Data(buffer: r.body.getSlice(at: 0, length: n)!))
            #expect(answer.outputs[0].data == nil && answer.outputs[0].parameters == ["binary_data_size": 16])
            var rest = r.body.getSlice(at: n, length: r.body.readableBytes - n)!
            let values = (0..<4).map { _ in Float(bitPattern: rest.readInteger(endianness: .little, as: UInt32.self)!) }
            #expect(maxRelativeDifference(values, expected) <= 1e-5)

            // Binary in, JSON out.
            let (b2, h2) = Self.body(images.contiguous().scalars, shape: images.shape, binaryOutput: false)
            let json = try decode(InferenceResponse.self, try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: h2, body: b2))
            #expect(maxRelativeDifference(json.outputs[0].data ?? [], expected) <= 1e-5)
        }
    }

    @Test func badBinaryBodiesAreNamed() async throws {
        let server = try testServer()
        try await server.application().test(.live) { client in
            var nan = [Float](repeating: 0, count: 784)
            nan[5] = .nan
            let cases: [((ByteBuffer, HTTPFields), String)] = [
                (Self.body(nan, shape: [1, 1, 28, 28]), "input 'image' value 5 is not a finite FP32 number"),
                (Self.body([Float](repeating: 0, count: 784), shape: [1, 1, 28, 28], declaredBytes: 4000),
                 "input 'image' declares 4000 binary bytes; the body has 3136 after its JSON header"),
                (Self.body([Float](repeating: 0, count: 10), shape: [1, 1, 28, 28]), "input 'image' has 10 values; shape [1, 1, 28, 28] needs 784"),
            ]
            for ((body, headers), message) in cases {
                let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: headers, body: body)
                #expect(r.status == .badRequest && errorMessage(r) == message)
            }
            let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post,
                                             headers: [BinaryTensorData.headerLength: "99999"], body: ByteBuffer(string: "{}"))
            #expect(r.status == .badRequest && errorMessage(r) == "Inference-Header-Content-Length is '99999'; the body has 2 bytes")
        }
    }
}
