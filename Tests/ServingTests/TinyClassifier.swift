import Foundation
import GraphCore
import ONNX
import Serving
import Train

// A tiny two-class model written as a checkpoint and as the ONNX file exported from the same weights, the way
// `pneumo train` and `pneumo export` write them (threshold and temperature in the checkpoint info, and as
// `pneumo.*` metadata_props in the ONNX file).

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pneumo-serving-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// pneumonet at 28 px, 1 channel, seeded weights.
struct TinyModel {
    var descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)
    var info = ["threshold": "0.3", "temperature": "1.5"]
    var seed: UInt64 = 3

    /// Writes `<name>.safetensors` in `directory`; returns its path.
    func writeCheckpoint(in directory: URL, name: String = "tiny") throws -> String {
        let m = try descriptor.graph(seed: seed)
        let url = directory.appendingPathComponent("\(name).safetensors")
        try Checkpoint(descriptor: descriptor, parameters: m.parameters, info: info).write(to: url)
        return url.path
    }

    /// Writes `<name>.onnx` (symbolic batch unless `dynamicBatch` is false) in `directory`; returns its path.
    func writeONNX(in directory: URL, name: String = "tiny", dynamicBatch: Bool = true) throws -> String {
        let m = try descriptor.graph(seed: seed)
        var metadata = info.reduce(into: [String: String]()) { $0["pneumo." + $1.key] = $1.value }
        metadata["pneumo.model"] = String(decoding: try JSONEncoder().encode(descriptor), as: UTF8.self)
        let url = directory.appendingPathComponent("\(name).onnx")
        try ONNXExporter.write(graph: m.graph, parameters: m.parameters, to: url, dynamicBatch: dynamicBatch, metadata: metadata)
        return url.path
    }
}

/// Seeded standard-normal values in `shape`.
func randomBatch(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return .randomNormal(shape, using: &rng)
}

/// The images of `batch` (`[N, …]`) one at a time, each `[1, …]`.
func rows(of batch: Tensor) throws -> [Tensor] {
    let n = batch.shape[0], size = batch.count / n, values = batch.scalars
    return try (0..<n).map { try Tensor(shape: [1] + batch.shape.dropFirst(), scalars: Array(values[(size * $0)..<(size * $0 + size)])) }
}
