import ArgumentParser
import Foundation
import Models
import Serving

/// `--model NAME [--input-size N] [--channels C]` or `--checkpoint FILE` or `--onnx FILE`: which model a command
/// works on (`Serving.ModelSource` loads it).
struct ModelSourceOptions: ParsableArguments {
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

    /// The source the options name (validate() has made sure there is exactly one).
    var source: ModelSource {
        if let onnx { return .onnx(path: onnx) }
        if let checkpoint { return .checkpoint(path: checkpoint, inputSize: inputSize) }
        return .zoo(name: model!, inputSize: inputSize, channels: channels, seed: seed)
    }

    func load() throws -> LoadedModel {
        do {
            return try source.load()
        } catch let error as ClassifierError {
            throw error.cliError
        }
    }
}
