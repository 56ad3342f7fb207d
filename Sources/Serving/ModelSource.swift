import Foundation
import GraphCore
import Models
import ONNX
import Train

/// Where a model comes from: a zoo model with seeded random weights (for benchmarks), a checkpoint written by
/// training, or an ONNX file (ours or `torch.onnx.export`'s).
public enum ModelSource: Sendable, Equatable {
    /// `inputSize` pixels square (default 64), `channels` (default: the model's own), weights drawn with `seed`.
    case zoo(name: String, inputSize: Int? = nil, channels: Int? = nil, seed: UInt64 = 0)
    /// A checkpoint, its zoo model built at `inputSize` (default: the checkpoint's own).
    case checkpoint(path: String, inputSize: Int? = nil)
    case onnx(path: String)

    /// The ONNX file, for a peer that reads the same file.
    public var onnxPath: String? {
        if case let .onnx(path) = self { path } else { nil }
    }

    /// Builds or reads the model. Errors of the readers (ONNX, safetensors, an unknown zoo name) pass through as
    /// they are; a missing file is a `ClassifierError.noSuchFile`.
    public func load() throws -> LoadedModel {
        switch self {
        case let .onnx(path):
            guard FileManager.default.fileExists(atPath: path) else { throw ClassifierError.noSuchFile(.onnx, path: path) }
            let m = try ONNXModel(contentsOf: URL(fileURLWithPath: path))
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var loaded = LoadedModel(name: name, graph: m.graph, parameters: m.parameters, sampleShape: Array(m.inputShape.dropFirst()))
            loaded.inputName = m.inputName
            loaded.threshold = m.metadata["pneumo.threshold"].flatMap(Double.init)
            loaded.temperature = m.metadata["pneumo.temperature"].flatMap(Double.init)
            // Only the first output feeds the runtime (the logits).
            loaded.graph.outputs = Array(loaded.graph.outputs.prefix(1))
            return loaded
        case let .checkpoint(path, inputSize):
            guard FileManager.default.fileExists(atPath: path) else { throw ClassifierError.noSuchFile(.checkpoint, path: path) }
            let ckpt = try Checkpoint.read(URL(fileURLWithPath: path))
            var d = ckpt.descriptor
            let graph: Graph
            if let custom = ckpt.customGraph {
                // A rewritten model (`pneumo optimize`, a fine-tuned rewrite) runs as stored, at the size it was built for.
                if let inputSize, inputSize != d.input_size {
                    throw ClassifierError.unreadableModel(.checkpoint, path: path, reason: "checkpoint \(path) holds a rewritten graph built for \(d.input_size) px; it cannot be run at --input-size \(inputSize)")
                }
                graph = custom
            } else {
                if let inputSize { d.input_size = inputSize }
                graph = try ModelGraph(try d.layer(), inputShape: d.inputShape(batch: 1)).graph
            }
            var loaded = LoadedModel(name: d.model, graph: graph, parameters: ckpt.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
            loaded.threshold = ckpt.info["threshold"].flatMap(Double.init)
            loaded.temperature = ckpt.info["temperature"].flatMap(Double.init)
            return loaded
        case let .zoo(name, inputSize, channels, seed):
            let d = ModelDescriptor(model: name, inputSize: inputSize ?? 64, channels: channels ?? ModelZoo.defaultChannels(name))
            let g = try ModelGraph(try d.layer(), inputShape: d.inputShape(batch: 1), seed: seed)
            return LoadedModel(name: d.model, graph: g.graph, parameters: g.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
        }
    }
}
