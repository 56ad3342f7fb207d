import ArgumentParser
import GraphCore
import Foundation
import ClinicalMetrics
import Models
import NN
import ONNX
import Train

/// `--model NAME [--input-size N] [--channels C]` or `--checkpoint FILE`: which model a command works on.
struct ModelSource: ParsableArguments {
    @Option(help: ArgumentHelp("A named model (\(ModelZoo.names.joined(separator: ", "))), with seeded random weights.", valueName: "name"))
    var model: String?
    @Option(help: ArgumentHelp("A checkpoint written by pneumo train.", valueName: "file")) var checkpoint: String?
    @Option(help: ArgumentHelp("An ONNX model (ours or torch.onnx.export's).", valueName: "file")) var onnx: String?
    @Option(name: .customLong("input-size"), help: "Input size in pixels (default: the checkpoint's, else 64).") var inputSize: Int?
    @Option(help: "Input channels for --model (default 3).") var channels: Int?
    @Option(help: "Seed of the random weights for --model.") var seed: UInt64 = 0

    func validate() throws {
        guard [model, checkpoint, onnx].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --model NAME, --checkpoint FILE or --onnx FILE")
        }
        if let onnx, !FileManager.default.fileExists(atPath: onnx) { throw ValidationError("--onnx: no such file: \(onnx)") }
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        if let channels, channels < 1 { throw ValidationError("--channels must be positive") }
        if let checkpoint, !FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("--checkpoint: no such file: \(checkpoint)")
        }
    }

    struct Loaded {
        var name: String
        var graph: Graph
        var parameters: ParameterStore
        /// `[C, H, W]`.
        var sampleShape: [Int]
        var inputName = "image"
        /// The decision threshold stored with the model (checkpoint info or ONNX metadata), if any.
        var threshold: Double?
        /// The temperature stored with the model (checkpoint info or ONNX metadata `pneumo.temperature`), if any.
        var temperature: Double?

        /// The stored temperature as a scaling; a stored value that is not a positive number is refused.
        func temperatureScaling() throws -> TemperatureScaling {
            guard let temperature else { return .identity }
            guard let scaling = try? TemperatureScaling(temperature: temperature) else {
                throw ValidationError("the model's stored temperature \(temperature) is not a positive number")
            }
            return scaling
        }
    }

    func load() throws -> Loaded {
        if let onnx {
            let m = try ONNXModel(contentsOf: URL(fileURLWithPath: onnx))
            let name = URL(fileURLWithPath: onnx).deletingPathExtension().lastPathComponent
            var loaded = Loaded(name: name, graph: m.graph, parameters: m.parameters, sampleShape: Array(m.inputShape.dropFirst()))
            loaded.inputName = m.inputName
            loaded.threshold = m.metadata["pneumo.threshold"].flatMap(Double.init)
            loaded.temperature = m.metadata["pneumo.temperature"].flatMap(Double.init)
            // Only the first output feeds the runtime (the logits).
            loaded.graph.outputs = Array(loaded.graph.outputs.prefix(1))
            return loaded
        }
        if let checkpoint {
            let ckpt = try Checkpoint.read(URL(fileURLWithPath: checkpoint))
            var d = ckpt.descriptor
            if let inputSize { d.input_size = inputSize }
            let g = try ModelGraph(try d.layer(), inputShape: d.inputShape(batch: 1))
            var loaded = Loaded(name: d.model, graph: g.graph, parameters: ckpt.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
            loaded.threshold = ckpt.info["threshold"].flatMap(Double.init)
            loaded.temperature = ckpt.info["temperature"].flatMap(Double.init)
            return loaded
        }
        let d = ModelDescriptor(model: model!, inputSize: inputSize ?? 64, channels: channels ?? ModelZoo.defaultChannels(model!))
        let g = try ModelGraph(try d.layer(), inputShape: d.inputShape(batch: 1), seed: seed)
        return Loaded(name: d.model, graph: g.graph, parameters: g.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
    }
}
