import ArgumentParser
import Data
import GraphCore
import Foundation
import ONNX

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
        let model = try ONNXModel(contentsOf: URL(fileURLWithPath: onnx))
        let array = try NPYReader.read(contentsOf: URL(fileURLWithPath: input))
        guard array.dtype.kind == .float else {
            throw InferInputError(description: "\(input): expected a float32 array, found \(array.dtype)")
        }
        var shape = array.shape
        if shape.count == model.inputShape.count - 1 { shape.insert(1, at: 0) }
        guard shape.count == model.inputShape.count, shape.dropFirst() == model.inputShape.dropFirst(), shape[0] >= 1 else {
            throw InferInputError(description: "\(input): the model expects \(describe(model.inputShape)) with any batch size, the array is \(describe(array.shape))")
        }
        let values = array.floatValues()
        // A NaN pixel gave finite, plausible logits (ReLU as max(x, 0) turns NaN into 0): refuse it here.
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            var index = [Int](repeating: 0, count: array.shape.count), rest = i
            for d in array.shape.indices.reversed() where array.shape[d] > 0 { (rest, index[d]) = rest.quotientAndRemainder(dividingBy: array.shape[d]) }
            throw InferInputError(description: "\(input): element \(describe(index)) is \(values[i]); the model's input must be finite")
        }
        let x = try Tensor(shape: shape, scalars: values)
        let outputs = try model.run(x, backend: backend)
        let url = URL(fileURLWithPath: output)
        for (k, y) in outputs.enumerated() {
            let target = k == 0 ? url : url.deletingLastPathComponent()
                .appendingPathComponent("\(url.deletingPathExtension().lastPathComponent)_\(k).npy")
            try NPYWriter.write(y, to: target)
            FileHandle.standardError.write(Data("wrote \(target.path): \(model.outputNames[k]) \(describe(y.shape))\n".utf8))
        }
    }
}

/// A run-time problem with the input array (printed without the usage text, unlike a ValidationError).
struct InferInputError: Error, CustomStringConvertible {
    let description: String
}
