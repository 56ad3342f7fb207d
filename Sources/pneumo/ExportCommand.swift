import ArgumentParser
import GraphCore
import Foundation
import Models
import ONNX
import Train

/// `pneumo export`: a checkpoint (or a named model with its seeded initialisation, for benchmarks) as an
/// ONNX file that `onnx.checker.check_model(full_check=True)` accepts and ONNX Runtime runs.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as ONNX, with its weights as initializers named like PyTorch's state dict.",
        discussion: """
            Give --checkpoint (a file written by pneumo train) or --model (a family member with its seeded \
            initialisation). The input is "image" [N, C, H, W] (N fixed at 1, or the symbolic "batch" with \
            --dynamic-batch); the output is "logits" [N, classes]. Dropout is left out (inference export). \
            A checkpoint's model descriptor and facts are kept as metadata_props (pneumo.model, pneumo.threshold, …).
            """)

    @Option(help: ArgumentHelp("A checkpoint written by pneumo train.", valueName: "file")) var checkpoint: String?
    @Option(help: ArgumentHelp("A named model (\(ModelZoo.names.joined(separator: ", "))), with seeded random weights.", valueName: "name"))
    var model: String?
    @Option(name: .customLong("input-size"), help: "Input height and width in pixels (default: the checkpoint's, else 64).")
    var inputSize: Int?
    @Option(help: "Input channels for --model (default: the model's).") var channels: Int?
    @Option(help: "Seed of the random weights for --model.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Where to write the .onnx file.", valueName: "file")) var out: String
    @Option(help: "ONNX opset (\(ONNXExporter.supportedOpsets.lowerBound)…\(ONNXExporter.supportedOpsets.upperBound)).")
    var opset = ONNXExporter.defaultOpset
    @Flag(name: .customLong("dynamic-batch"), help: "Make the batch dimension symbolic (dim_param \"batch\").") var dynamicBatch = false
    @Flag(help: "Print JSON (path, opset, dynamic_batch, initializers, parameters, bytes).") var json = false

    func validate() throws {
        guard (checkpoint == nil) != (model == nil) else { throw ValidationError("give exactly one of --checkpoint FILE and --model NAME") }
        if let checkpoint, !FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("--checkpoint: no such file: \(checkpoint)")
        }
        if checkpoint != nil, channels != nil { throw ValidationError("--channels applies to --model; a checkpoint knows its channels") }
        if let model, !ModelZoo.names.contains(model) {
            throw ValidationError("--model: unknown model '\(model)'; known: \(ModelZoo.names.joined(separator: ", "))")
        }
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        if let channels, channels < 1 { throw ValidationError("--channels must be positive, got \(channels)") }
        guard ONNXExporter.supportedOpsets.contains(opset) else {
            throw ValidationError("--opset must be in \(ONNXExporter.supportedOpsets.lowerBound)…\(ONNXExporter.supportedOpsets.upperBound), got \(opset)")
        }
        try OutputPath.file(out, "--out")
    }

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same model gives the same bytes
        let graph: Graph
        let parameters: ParameterStore
        var metadata: [String: String] = [:]
        if let checkpoint {
            let ckpt = try Checkpoint.read(URL(fileURLWithPath: checkpoint))
            var d = ckpt.descriptor
            if let inputSize { d.input_size = inputSize }
            graph = try ModelGraph(try d.layer(), inputShape: d.inputShape(batch: 1)).graph
            parameters = ckpt.parameters
            metadata["pneumo.model"] = String(decoding: try encoder.encode(d), as: UTF8.self)
            for (key, value) in ckpt.info { metadata["pneumo." + key] = value }
        } else {
            let name = model!
            let d = ModelDescriptor(model: name, inputSize: inputSize ?? 64, channels: channels ?? ModelZoo.defaultChannels(name))
            let m = try d.graph(seed: seed)
            graph = m.graph
            parameters = m.parameters
            metadata["pneumo.model"] = String(decoding: try encoder.encode(d), as: UTF8.self)
            metadata["pneumo.seed"] = String(seed)
        }
        let url = URL(fileURLWithPath: out)
        try ONNXExporter.write(graph: graph, parameters: parameters, to: url, opset: opset, dynamicBatch: dynamicBatch,
                               metadata: metadata)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let result = ExportResult(path: url.path, opset: opset, dynamic_batch: dynamicBatch, initializers: parameters.names.count,
                                  parameters: parameters.names.reduce(0) { $0 + (parameters[$1]?.count ?? 0) }, bytes: bytes)
        if json {
            print(try result.jsonString())
        } else {
            print("wrote \(result.path): opset \(opset), \(dynamicBatch ? "dynamic batch" : "batch 1"), \(result.initializers) initializers, \(result.parameters) values, \(String(format: "%.2f", Double(bytes) / 1_048_576)) MB")
        }
    }
}

struct ExportResult: Encodable {
    let path: String
    let opset: Int
    let dynamic_batch: Bool
    let initializers: Int
    let parameters: Int
    let bytes: Int
}
