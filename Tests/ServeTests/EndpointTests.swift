import Foundation
import GraphCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import Serve

/// Every endpoint of the Open Inference Protocol and ours, through a live server on loopback and Hummingbird's client.
@Suite("Serving: endpoints") struct EndpointTests {
    @Test func healthServerAndModelMetadata() async throws {
        let server = try testServer()
        try await server.application().test(.live) { client in
            for path in ["/v2/health/live", "/v2/health/ready", "/v2/models/pneumonet/ready", "/v2/models/pneumonet/versions/1/ready"] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.status == .ok, "\(path)")
            }
            let meta = try decode(ServerMetadataResponse.self, try await client.execute(uri: "/v2", method: .get))
            #expect(meta.name == "pneumo" && meta.extensions == ["binary_tensor_data"])
            for path in ["/v2/models/pneumonet", "/v2/models/pneumonet/versions/1"] {
                let model = try decode(ModelMetadataResponse.self, try await client.execute(uri: path, method: .get))
                #expect(model == ModelMetadataResponse(name: "pneumonet", versions: ["1"], platform: "pneumo_runtime",
                                                       inputs: [TensorMetadata(name: "image", datatype: "FP32", shape: [-1, 1, 28, 28])],
                                                       outputs: [TensorMetadata(name: "logits", datatype: "FP32", shape: [-1, 2])]))
            }
            let unknown = try await client.execute(uri: "/v2/models/resnet/ready", method: .get)
            #expect(unknown.status == .notFound && errorMessage(unknown) == "no model named 'resnet'")
            let version = try await client.execute(uri: "/v2/models/pneumonet/versions/7", method: .get)
            #expect(version.status == .notFound && errorMessage(version) == "model 'pneumonet' has no version '7'")
        }
    }

    @Test(arguments: [false, true]) func inferMatchesTheRuntime(nested: Bool) async throws {
        let model = try servedPneumoNet()
        let server = try testServer(models: [model])
        let images = testImages(3, seed: 1)
        let expected = try model.runtime.run(images).contiguous().scalars
        try await server.application().test(.live) { client in
            let r = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders,
                                             body: inferBody(images, id: "req-1", nested: nested))
            #expect(r.status == .ok, "\(errorMessage(r))")
            let answer = try decode(InferenceResponse.self, r)
            #expect(answer.model_name == "pneumonet" && answer.model_version == "1" && answer.id == "req-1")
            #expect(answer.outputs.count == 1 && answer.outputs[0].name == "logits" && answer.outputs[0].shape == [3, 2]
                    && answer.outputs[0].datatype == "FP32")
            #expect(maxRelativeDifference(answer.outputs[0].data ?? [], expected) <= 1e-5)
        }
    }

    @Test func classifyOneImageAndSeveralAsMultipart() async throws {
        let model = try servedPneumoNet(threshold: 0.4)
        let server = try testServer(models: [model])
        let pngs = try (0..<2).map { k in
            Data(try PNGTestImage.encode(width: 40, height: 32) { x, y in UInt8((x * 5 + y * 3 + k * 60) % 256) })
        }
        try await server.application().test(.live) { client in
            let one = try await client.execute(uri: "/v2/models/pneumonet/classify", method: .post,
                                               headers: [.contentType: "image/png"], body: ByteBuffer(bytes: pngs[0]))
            #expect(one.status == .ok, "\(errorMessage(one))")
            let single = try decode(ClassifyResponse.self, one)
            #expect(single.results.count == 1 && single.results[0].image == "image" && single.threshold == 0.4)
            #expect((0...1).contains(single.results[0].probability))
            #expect(single.results[0].label == (single.results[0].probability >= 0.4 ? "pneumonia" : "normal"))
            // Keys in one order, sorted, every time (they came in varying orders).
            let text = String(buffer: one.body)
            let keys = ["model_name", "model_version", "results", "threshold", "threshold_source"].map { "\"\($0)\":" }
            let at = keys.compactMap { text.range(of: $0)?.lowerBound }
            #expect(at.count == keys.count && at == at.sorted() && text.hasPrefix("{\"model_name\":"), "\(text)")

            let boundary = "pneumo-test-boundary"
            var body = Data()
            for (k, png) in pngs.enumerated() {
                body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"images\"; filename=\"x\(k).png\"\r\nContent-Type: image/png\r\n\r\n".utf8))
                body.append(png)
                body.append(Data("\r\n".utf8))
            }
            body.append(Data("--\(boundary)--\r\n".utf8))
            let many = try await client.execute(uri: "/v2/models/pneumonet/classify", method: .post,
                                                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(bytes: body))
            #expect(many.status == .ok, "\(errorMessage(many))")
            let both = try decode(ClassifyResponse.self, many)
            #expect(both.results.map(\.image) == ["x0.png", "x1.png"])
            #expect(abs(both.results[0].probability - single.results[0].probability) < 1e-5)
        }
    }

    @Test func metricsCountRequestsByModelAndStatus() async throws {
        let server = try testServer()
        try await server.application().test(.live) { client in
            _ = try await client.execute(uri: "/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: inferBody(testImages(2, seed: 3)))
            _ = try await client.execute(uri: "/v2/models/nosuch/infer", method: .post, headers: jsonHeaders, body: inferBody(testImages(1, seed: 3)))
            let r = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: r.body)
            #expect(r.status == .ok)
            #expect(text.contains(#"pneumo_requests_total{model="pneumonet",endpoint="infer",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"pneumo_requests_total{model="unknown",endpoint="unknown",status="404"} 1"#), "\(text)")
            for name in ["pneumo_queue_duration_seconds_bucket", "pneumo_compute_duration_seconds_bucket",
                         "pneumo_request_duration_seconds_bucket", "pneumo_batch_size_bucket", "pneumo_queue_images"] {
                #expect(text.contains(name), "\(name) missing from /metrics")
            }
        }
    }

    @Test func bearerTokenIsRequiredWhenConfigured() async throws {
        let server = try testServer(authToken: "s3cret")
        try await server.application().test(.live) { client in
            let none = try await client.execute(uri: "/v2/health/ready", method: .get)
            #expect(none.status == .unauthorized && none.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await client.execute(uri: "/v2", method: .get, headers: [.authorization: "Bearer guess"])
            #expect(wrong.status == .unauthorized && errorMessage(wrong) == "the bearer token is not the server's")
            let right = try await client.execute(uri: "/v2", method: .get, headers: [.authorization: "Bearer s3cret"])
            #expect(right.status == .ok)
        }
    }
}
