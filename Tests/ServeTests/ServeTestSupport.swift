import Foundation
import GraphCore
import Hummingbird
import HummingbirdTesting
import Data
import Models
import NIOCore
import Imaging
import Runtime
import Serving
@testable import Serve

/// A small real model to serve: PneumoNet at 28 px, one channel, freshly initialised (seeded).
func servedPneumoNet(name: String = "pneumonet", threshold: Double? = 0.4) throws -> ServedModel {
    let m = try ModelGraph(PneumoNet(inChannels: 1, widths: [8, 16, 32, 64]), inputShape: [1, 1, 28, 28], seed: 7)
    // Fixed choices instead of timed races: compiling stays fast, and the outputs are the same either way.
    let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], parallelism: .intraOp, convolutions: .direct)
    return ServedModel(name: name, description: "PneumoNet (test)", runtime: runtime, outputName: "logits", classes: 2,
                       threshold: threshold, thresholdSource: "test", probability: { l0, l1 in 1 / (1 + exp(Double(l0 - l1))) },
                       preprocess: { images in
                           // As `Classifier.preprocess` does (a Classifier needs a model file; this model has none).
                           try MedMNISTPreprocessing(size: 28, channels: 1).tensor(images.map { image in
                               do { return try ImageFile.decodePixels(data: Data(image.data), name: image.name).gray }
                               catch let error as ImageError {
                                   throw ClassifierError.undecodableImage(name: image.name, kind: error.kind, reason: error.message)
                               }
                           })
                       })
}

/// A server on a free loopback port with small batching limits, so tests run fast.
func testServer(models: [ServedModel]? = nil, authToken: String? = nil, maxBatch: Int = 8, maxDelay: Duration = .milliseconds(2),
                maxQueue: Int = 64, maxBodyBytes: Int = 1 << 20, eventLoops: Int? = nil,
                placement: DynamicBatcher.Placement = .auto) throws -> InferenceServer {
    try InferenceServer(models: models ?? [servedPneumoNet()],
                        configuration: ServerConfiguration(host: "127.0.0.1", port: 0,
                                                           batching: .init(maxBatch: maxBatch, maxDelay: maxDelay, maxQueue: maxQueue,
                                                                           placement: placement),
                                                           authToken: authToken, maxBodyBytes: maxBodyBytes, eventLoops: eventLoops))
}

/// Seeded images `[n, 1, 28, 28]` in the range normalised MedMNIST images have.
func testImages(_ n: Int, seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return Tensor.randomNormal([n, 1, 28, 28], using: &rng)
}

/// An inference request body for `images`, with data flat (or nested one level per dimension).
func inferBody(_ images: Tensor, name: String = "image", datatype: String = "FP32", id: String? = nil, nested: Bool = false) -> ByteBuffer {
    let values = images.contiguous().scalars.map { "\($0)" }
    var data = "[" + values.joined(separator: ",") + "]"
    if nested {
        func nest(_ flat: ArraySlice<String>, _ shape: ArraySlice<Int>) -> String {
            guard let first = shape.first, shape.count > 1 else { return "[" + flat.joined(separator: ",") + "]" }
            let size = flat.count / first
            return "[" + (0..<first).map { nest(flat[(flat.startIndex + $0 * size)..<(flat.startIndex + ($0 + 1) * size)], shape.dropFirst()) }
                .joined(separator: ",") + "]"
        }
        data = nest(values[...], images.shape[...])
    }
    let idField = id.map { "\"id\":\"\($0)\"," } ?? ""
    let shape = "[" + images.shape.map(String.init).joined(separator: ",") + "]"
    return ByteBuffer(string: "{\(idField)\"inputs\":[{\"name\":\"\(name)\",\"shape\":\(shape),\"datatype\":\"\(datatype)\",\"data\":\(data)}]}")
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
}

/// The protocol's error message of a response.
func errorMessage(_ response: TestResponse) -> String {
    (try? decode(ErrorResponse.self, response).error) ?? "<no error body: \(String(buffer: response.body))>"
}

/// Expects `a` to equal `b` within `tolerance` relative to `b`'s largest magnitude.
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    let scale = max(b.map(abs).max() ?? 1, 1e-3)
    guard a.count == b.count else { return .infinity }
    return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / scale
}

/// A grey PNG whose pixel (x, y) is `pixel(x, y)`, through the Data target's encoder.
enum PNGTestImage {
    static func encode(width: Int, height: Int, _ pixel: (Int, Int) -> UInt8) throws -> [UInt8] {
        var pixels: [UInt8] = []
        for y in 0..<height { for x in 0..<width { pixels.append(pixel(x, y)) } }
        return try PNGEncoder.encode(width: width, height: height, channels: 1, pixels: pixels)
    }
}
