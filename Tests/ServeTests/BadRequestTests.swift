import Foundation
import GraphCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import Serve

/// Every bad request gets a 4xx and the protocol's error body saying what is wrong; the server keeps answering.
@Suite("Serving: bad requests") struct BadRequestTests {
    static let shape = "[1,1,28,28]"
    static let zeros = "[" + Array(repeating: "0", count: 784).joined(separator: ",") + "]"

    static func body(name: String = "image", shape: String = shape, datatype: String = "FP32", data: String = zeros) -> String {
        "{\"inputs\":[{\"name\":\"\(name)\",\"shape\":\(shape),\"datatype\":\"\(datatype)\",\"data\":\(data)}]}"
    }

    /// (body, status, message): each case and the exact message a client sees ("…" + the end of it where the field path
    /// is the decoder's).
    static let cases: [(String, Int, String)] = [
        ("{\"inputs\": [", 400, "malformed inference request: the body is not valid JSON"),
        ("{}", 400, "malformed inference request: missing field 'inputs'"),
        ("{\"inputs\":[]}", 400, "the model takes 1 input ('image'), the request has 0"),
        (body(name: "x"), 400, "no input named 'x'; the model's input is 'image'"),
        (body(datatype: "INT64"), 400, "input 'image' is INT64; the model takes FP32"),
        (body(shape: "[1,1,28,27]"), 400, "input 'image' has shape [1, 1, 28, 27]; the model takes [-1, 1, 28, 28]"),
        (body(shape: "[0,1,28,28]", data: "[]"), 400, "input 'image' has shape [0, 1, 28, 28]; the model takes [-1, 1, 28, 28]"),
        (body(data: "[1,2,3]"), 400, "input 'image' has 3 values; shape [1, 1, 28, 28] needs 784"),
        (body(data: "[1e39]"), 400, "input 'image' has 1 values; shape [1, 1, 28, 28] needs 784"),
        (body(data: "[\"NaN\"]"), 400, "malformed inference request: field 'inputs[0].data': element 0 of data is not a number"),
        (body(data: "[true]"), 400, "malformed inference request: field 'inputs[0].data': element 0 of data is not a number"),
        (body(data: String(repeating: "[", count: 40) + String(repeating: "]", count: 40)), 400,
         "…data is nested deeper than 8 levels"),
        (body(shape: "[65,1,28,28]"), 400, "input 'image' holds 65 images; this server takes at most 64 per request"),
        // What the hand-written reader adds: RFC 8259's strictness, and the field a wrong type is in.
        (body(data: "[1,2,]"), 400, "malformed inference request: the body is not valid JSON"),
        (body(data: "[01]"), 400, "malformed inference request: the body is not valid JSON"),
        (body(data: "[NaN]"), 400, "malformed inference request: the body is not valid JSON"),
        (body(data: "7"), 400, "malformed inference request: field 'inputs[0].data' has the wrong type (expected an array of numbers)"),
        (body(shape: "[1,1,28,28.5]"), 400, "malformed inference request: field 'inputs[0].shape[3]' has the wrong type (expected an integer)"),
        ("[1]", 400, "malformed inference request: the body is not a JSON object"),
        ("{\"inputs\":{}}", 400, "malformed inference request: field 'inputs' has the wrong type (expected an array of tensors)"),
        ("{\"x\":" + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + ",\"inputs\":[]}", 400,
         "malformed inference request: the body nests arrays or objects deeper than 512 levels"),
    ]

    @Test func eachBadInferenceRequestIsNamed() async throws {
        let server = try testServer()
        try await server.application().test(.live) { client in
            for (body, status, message) in Self.cases {
                let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
                let matches = message.hasPrefix("…") ? errorMessage(r).hasSuffix(message.dropFirst()) : errorMessage(r) == message
                #expect(Int(r.status.code) == status && matches, "\(body.prefix(80)): \(errorMessage(r))")
                #expect(r.headers[.contentType] == "application/json")
            }
            // A non-finite value that JSON can carry: 1e39 overflows FP32.
            let big = "[" + (["1e39"] + Array(repeating: "0", count: 783)).joined(separator: ",") + "]"
            let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders,
                                             body: ByteBuffer(string: Self.body(data: big)))
            #expect(r.status == .badRequest && errorMessage(r) == "input 'image' value 0 is not a finite FP32 number")
            // And after all that, a good request still works.
            let ok = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: inferBody(testImages(1, seed: 2)))
            #expect(ok.status == .ok)
        }
    }

    @Test func unknownOutputModelRouteMethodAndOversizedBody() async throws {
        let server = try testServer(maxBodyBytes: 4096)
        try await server.application().test(.live) { client in
            let big = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: inferBody(testImages(4, seed: 5)))
            #expect(big.status == .contentTooLarge && errorMessage(big) == "the request body is over the server's limit")
            let model = try await client.execute(uri: "/v2/models/other/infer", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(model.status == .notFound && errorMessage(model) == "no model named 'other'")
            let route = try await client.execute(uri: "/v3/whatever", method: .get)
            #expect(route.status == .notFound && route.headers[.contentType] == "application/json")
            let method = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .get)
            #expect((400..<500).contains(Int(method.status.code)) && method.headers[.contentType] == "application/json")
        }
        let server2 = try testServer()
        try await server2.application().test(.live) { client in
            let out = "{\"inputs\":[{\"name\":\"image\",\"shape\":\(Self.shape),\"datatype\":\"FP32\",\"data\":\(Self.zeros)}],\"outputs\":[{\"name\":\"probs\"}]}"
            let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: ByteBuffer(string: out))
            #expect(r.status == .badRequest && errorMessage(r) == "no output named 'probs'; the model's output is 'logits'")
        }
    }

    @Test func undecodableImagesAndEmptyBodies() async throws {
        let server = try testServer()
        try await server.application().test(.live) { client in
            let junk = try await client.execute(uri: "/v2/models/pneumonet/classify", method: .post, headers: [.contentType: "image/png"],
                                                body: ByteBuffer(string: "not an image at all"))
            #expect(junk.status == .badRequest && errorMessage(junk).hasPrefix("image: "), "\(errorMessage(junk))")
            let empty = try await client.execute(uri: "/v2/models/pneumonet/classify", method: .post, headers: [.contentType: "image/png"])
            #expect(empty.status == .badRequest && errorMessage(empty) == "the body is empty; send a PNG or JPEG image")
            let noBoundary = try await client.execute(uri: "/v2/models/pneumonet/classify", method: .post,
                                                      headers: [.contentType: "multipart/form-data"], body: ByteBuffer(string: "x"))
            #expect(noBoundary.status == .badRequest && errorMessage(noBoundary) == "a multipart body needs a boundary in its Content-Type")
        }
    }

    /// `classify` on a model that does not answer pneumonia or not (three classes here) is refused before its body is
    /// read: a body over the size limit gets the refusal (400), not 413.
    @Test func classifyRefusesAModelThatIsNotABinaryImageClassifier() async throws {
        let base = try servedPneumoNet()
        let three = ServedModel(name: "three", description: "three classes (test)", runtime: base.runtime, outputName: "logits",
                                classes: 3, threshold: nil, thresholdSource: "test", probability: base.probability,
                                preprocess: base.preprocess)
        let server = try testServer(models: [three], maxBodyBytes: 1 << 10)
        try await server.application().test(.live) { client in
            let r = try await client.execute(uri: "/v2/models/three/classify", method: .post, headers: [.contentType: "image/png"],
                                             body: ByteBuffer(repeating: 0, count: 4 << 10))
            #expect(r.status == .badRequest && errorMessage(r).hasSuffix("not a square image with two classes; use infer"), "\(errorMessage(r))")
        }
    }
}
