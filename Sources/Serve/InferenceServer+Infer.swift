import Foundation
import GraphCore
import Hummingbird
import NIOCore

extension InferenceServer {
    /// `POST /v2/models/NAME/infer`: one FP32 input `[N] + sampleShape`, answered with the model's output `[N, classes]`.
    /// With the binary tensor data extension (`Inference-Header-Content-Length`), tensors may follow the JSON as raw
    /// little-endian bytes, both ways: what Triton's clients send by default.
    func infer(_ request: Request, body: ByteBuffer, _ batcher: DynamicBatcher) async throws -> Response {
        let (header, binary) = try BinaryTensorData.split(body, headerLength: request.headers[BinaryTensorData.headerLength])
        let parsed: InferenceRequest
        do {
            parsed = try header.withUnsafeReadableBytes { try InferenceRequestReader.read($0) }
        } catch let failure as JSONCursor.Failure {
            throw ServeError.badRequest("malformed inference request: \(failure.message)")
        }
        let model = batcher.model
        let input = try Self.tensor(parsed, for: model, maxImages: configuration.batching.maxQueue, binary: binary)
        for o in parsed.outputs ?? [] where o.name != model.outputName {
            throw ServeError.badRequest("no output named '\(o.name)'; the model's output is '\(model.outputName)'")
        }
        let (output, timing) = try await batcher.infer(input)
        metrics.inference(model: model.name, queue: timing.queue, compute: timing.compute)
        let values = output.contiguous().scalars
        let asBinary = parsed.outputs?.first?.parameters?["binary_data"]?.bool ?? parsed.parameters?["binary_data_output"]?.bool ?? false
        var out = ResponseOutput(name: model.outputName, shape: output.shape, datatype: "FP32", data: values)
        if asBinary { (out.data, out.parameters) = (nil, ["binary_data_size": values.count * 4]) }
        let answer = InferenceResponse(model_name: model.name, model_version: model.version, id: parsed.id, outputs: [out])
        if asBinary { return try BinaryTensorData.response(answer, tensors: [values]) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(256 + 16 * values.count)
        try InferenceResponseWriter.write(answer, into: &buffer)
        return Response(status: .ok, headers: Self.jsonContentType, body: ResponseBody(byteBuffer: buffer))
    }

    /// The request's one input as a tensor, after every check the protocol leaves to the server.
    static func tensor(_ request: InferenceRequest, for model: ServedModel, maxImages: Int, binary: ByteBuffer? = nil) throws -> Tensor {
        guard request.inputs.count == 1 else {
            throw ServeError.badRequest("the model takes 1 input ('\(model.inputName)'), the request has \(request.inputs.count)")
        }
        let input = request.inputs[0]
        guard input.name == model.inputName else {
            throw ServeError.badRequest("no input named '\(input.name)'; the model's input is '\(model.inputName)'")
        }
        guard input.datatype == "FP32" else {
            throw ServeError.badRequest("input '\(input.name)' is \(input.datatype); the model takes FP32")
        }
        guard input.shape.count == model.sampleShape.count + 1, Array(input.shape.dropFirst()) == model.sampleShape,
              let n = input.shape.first, n >= 1 else {
            throw ServeError.badRequest("input '\(input.name)' has shape \(describe(input.shape)); the model takes \(describe([-1] + model.sampleShape))")
        }
        guard n <= maxImages else {
            throw ServeError.badRequest("input '\(input.name)' holds \(n) images; this server takes at most \(maxImages) per request")
        }
        let count = input.shape.reduce(1, *)
        let values = try BinaryTensorData.values(of: input, binary: binary)
        guard values.count == count else {
            throw ServeError.badRequest("input '\(input.name)' has \(values.count) values; shape \(describe(input.shape)) needs \(count)")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw ServeError.badRequest("input '\(input.name)' value \(i) is not a finite FP32 number")
        }
        return try Tensor(shape: input.shape, scalars: values)
    }
}
