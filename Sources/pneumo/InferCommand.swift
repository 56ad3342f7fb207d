import ArgumentParser
import Foundation
import GraphCore
import Serving

/// `pneumo infer`: an ONNX model (ours or `torch.onnx.export`'s) on a float NCHW `.npy` array, through the
/// importer and the engine's executor; the outputs are written as float32 `.npy`.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run an ONNX model on a float32 NCHW .npy array and write its outputs as .npy.",
        discussion: """
            The input must be [N, C, H, W] with C, H, W as the model declares (any N), float32 or float64, every value \
            finite; a single [C, H, W] image is run as a batch of one. The first output is written to --output; further outputs, \
            if the model has any, to <output stem>_<k>.npy.
            """)

    @Option(help: ArgumentHelp("The ONNX model.", valueName: "file")) var onnx: String
    @Option(help: ArgumentHelp("Input array (.npy).", valueName: "file")) var input: String
    @Option(help: ArgumentHelp("Where to write the output array (.npy).", valueName: "file")) var output: String
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        for (flag, path) in [("--onnx", onnx), ("--input", input)] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(flag): no such file: \(path)")
        }
        try OutputPath.file(output, "--output")
    }

    func run() throws {
        let backend = try engine.makeBackend()
        let result: ArrayInference.Result
        do {
            result = try ArrayInference.run(onnx: onnx, input: input, backend: backend)
        } catch let error as ArrayInferenceError {
            throw InferInputError(description: error.description)
        }
        for written in try result.write(to: URL(fileURLWithPath: output)) {
            FileHandle.standardError.write(Data("wrote \(written.path): \(written.name) \(describe(written.shape))\n".utf8))
        }
    }
}

/// A run-time problem with the input array (printed without the usage text, unlike a ValidationError).
struct InferInputError: Error, CustomStringConvertible {
    let description: String
}
