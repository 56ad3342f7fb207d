import Foundation
import GraphCore
import Hummingbird
import MultipartKit
import NIOCore
import Serving

/// The answer of `POST /v2/models/NAME/classify`: one result per image, in the order sent.
public struct ClassifyResponse: Codable, Sendable, Equatable {
    public struct Result: Codable, Sendable, Equatable {
        /// The multipart part's filename (or field name), or "image" for a single-image body.
        public var image: String
        /// Calibrated P(pneumonia).
        public var probability: Double
        /// "pneumonia" at or above the threshold, else "normal".
        public var label: String
    }
    public var model_name: String
    public var model_version: String
    public var threshold: Double
    public var threshold_source: String
    public var results: [Result]
}

extension InferenceServer {
    /// `POST /v2/models/NAME/classify`: a PNG or JPEG body, or several as `multipart/form-data`, preprocessed as
    /// MedMNIST was (grey, centre square, bicubic resize, normalised) and run in one request.
    func classify(_ request: Request, body: ByteBuffer, _ batcher: DynamicBatcher) async throws -> Response {
        let model = batcher.model
        let images = try Self.images(body, contentType: request.headers[.contentType] ?? "")
        guard images.count <= configuration.batching.maxQueue else {
            throw ServeError.badRequest("\(images.count) images in one request; this server takes at most \(configuration.batching.maxQueue)")
        }
        let input: Tensor
        do {
            // Decoding a radiograph takes milliseconds: off the event loop the connection's task runs on.
            input = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try model.preprocess(images.map { EncodedImage($0.data, name: $0.name) })
            }
        } catch let error as ClassifierError {
            throw ServeError.badRequest(error.description)
        }
        let (logits, timing) = try await batcher.infer(input)
        metrics.inference(model: model.name, queue: timing.queue, compute: timing.compute)
        let l = logits.contiguous().scalars
        let results = images.indices.map { i in
            let p = model.probability(l[2 * i], l[2 * i + 1])
            return ClassifyResponse.Result(image: images[i].name, probability: p, label: p >= model.threshold ? "pneumonia" : "normal")
        }
        return try Self.json(ClassifyResponse(model_name: model.name, model_version: model.version, threshold: model.threshold,
                                              threshold_source: model.thresholdSource, results: results))
    }

    /// Refuses a model that does not take images to classify, before its request's body is read.
    static func checkClassifies(_ model: ServedModel) throws {
        guard model.sampleShape.count == 3, model.sampleShape[1] == model.sampleShape[2], model.classes == 2 else {
            throw ServeError.badRequest("model '\(model.name)' takes \(describe(model.sampleShape)), not a square image with two classes; use infer")
        }
    }

    /// The encoded images of a body: the whole body, or each part of a multipart one.
    static func images(_ body: ByteBuffer, contentType: String) throws -> [(name: String, data: Data)] {
        guard contentType.lowercased().hasPrefix("multipart/") else {
            guard body.readableBytes > 0 else { throw ServeError.badRequest("the body is empty; send a PNG or JPEG image") }
            return [("image", Data(buffer: body))]
        }
        guard let boundary = parameter("boundary", of: contentType) else {
            throw ServeError.badRequest("a multipart body needs a boundary in its Content-Type")
        }
        var parts: [(name: String, data: Data)] = []
        var headers: [String: String] = [:], data = Data()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { field, value in headers[field.lowercased()] = value }
        parser.onBody = { chunk in data.append(contentsOf: chunk.readableBytesView) }
        parser.onPartComplete = {
            let disposition = headers["content-disposition"] ?? ""
            let name = parameter("filename", of: disposition) ?? parameter("name", of: disposition) ?? "part \(parts.count + 1)"
            parts.append((name, data))
            headers = [:]; data = Data()
        }
        do {
            try parser.execute(body)
        } catch {
            throw ServeError.badRequest("the multipart body could not be read: \(error)")
        }
        guard !parts.isEmpty else { throw ServeError.badRequest("the multipart body has no parts") }
        return parts
    }

    /// A `key=value` parameter of a header value (`multipart/form-data; boundary=x`), quotes removed.
    static func parameter(_ key: String, of header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == key else { continue }
            return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}
