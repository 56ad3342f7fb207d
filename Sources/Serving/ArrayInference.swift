import Data
import Foundation
import GraphCore
import ONNX

/// What `pneumo infer` does: an ONNX model (ours or `torch.onnx.export`'s) on a float `.npy` array, through the
/// importer and the engine's executor, every output kept.
public enum ArrayInference {
    /// A model's outputs, in its output order.
    public struct Result: Sendable {
        public let outputs: [(name: String, tensor: Tensor)]

        /// Writes output 0 to `url` and output k > 0 to `<url stem>_k.npy` beside it, as float32 `.npy`; returns each
        /// file with its output's name and shape, in order.
        public func write(to url: URL) throws -> [(path: String, name: String, shape: [Int])] {
            try outputs.enumerated().map { k, output in
                let target = k == 0 ? url : url.deletingLastPathComponent()
                    .appendingPathComponent("\(url.deletingPathExtension().lastPathComponent)_\(k).npy")
                try NPYWriter.write(output.tensor, to: target)
                return (target.path, output.name, output.tensor.shape)
            }
        }
    }

    /// Runs `onnx` on the array in `input`: `[N, C, H, W]` with C, H, W as the model declares (any N ≥ 1), or one
    /// `[C, H, W]` image run as a batch of one; float32 or float64, every value finite.
    public static func run(onnx: String, input: String, backend: any Backend) throws -> Result {
        let model = try ONNXModel(contentsOf: URL(fileURLWithPath: onnx))
        let array = try NPYReader.read(contentsOf: URL(fileURLWithPath: input))
        guard array.dtype.kind == .float else {
            throw ArrayInferenceError(description: "\(input): expected a float32 array, found \(array.dtype)")
        }
        var shape = array.shape
        if shape.count == model.inputShape.count - 1 { shape.insert(1, at: 0) }
        guard shape.count == model.inputShape.count, shape.dropFirst() == model.inputShape.dropFirst(), shape[0] >= 1 else {
            throw ArrayInferenceError(description: "\(input): the model expects \(describe(model.inputShape)) with any batch size, the array is \(describe(array.shape))")
        }
        let values = array.floatValues()
        // A NaN pixel gave finite, plausible logits (ReLU as max(x, 0) turns NaN into 0): refuse it here.
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            var index = [Int](repeating: 0, count: array.shape.count), rest = i
            for d in array.shape.indices.reversed() where array.shape[d] > 0 { (rest, index[d]) = rest.quotientAndRemainder(dividingBy: array.shape[d]) }
            throw ArrayInferenceError(description: "\(input): element \(describe(index)) is \(values[i]); the model's input must be finite")
        }
        let outputs = try model.run(try Tensor(shape: shape, scalars: values), backend: backend)
        return Result(outputs: Array(zip(model.outputNames, outputs)))
    }
}

/// A problem with `ArrayInference`'s input array; `description` names the file and what is wrong.
public struct ArrayInferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}
