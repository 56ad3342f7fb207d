import GraphCore
import Imaging
import Runtime

/// What a `Classifier` (or `ModelSource.load`) refuses. Each case carries what and where, so that a caller (the CLI,
/// an HTTP server) can word it in its own terms; `description` is a sentence that names both.
public enum ClassifierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model file does not exist.
    case noSuchFile(ModelFormat, path: String)
    /// The file exists but is not a model this reads (truncated, not safetensors or ONNX, an unsupported op, parameters
    /// that do not fit the model it names); `reason` is the reader's message, which names the file.
    case unreadableModel(ModelFormat, path: String, reason: String)
    /// A checkpoint of a model with other than the two classes normal and pneumonia.
    case notTwoClasses(path: String, classes: Int)
    /// An ONNX model whose input is not `[N, 1 or 3, S, S]`.
    case unsupportedInput(path: String, shape: [Int])
    /// An ONNX model exported for a fixed batch other than 1.
    case fixedBatch(path: String, batch: Int)
    /// A threshold or temperature stored with the model that is not `expected`; `origin` names the file and key
    /// (`checkpoint m.safetensors info "threshold"`).
    case invalidStoredValue(origin: String, text: String, expected: String)
    /// A loaded model's stored temperature that is not a positive number.
    case invalidTemperature(Double)
    /// A decision threshold outside [0, 1].
    case invalidThreshold(Double)
    /// Encoded bytes or a file that are not a decodable PNG or JPEG; `reason` is the decoder's message.
    case undecodableImage(name: String, kind: ImageError.Kind, reason: String)
    /// A batch that is not `[N ≥ 1, C, S, S]` as the model takes it; `expected` is `[C, S, S]`.
    case wrongShape(expected: [Int], got: [Int])
    /// A NaN or infinite value in a batch (ReLU, as max(x, 0), turns NaN into 0: a plausible, wrong probability).
    case nonFiniteInput(index: [Int], value: Float)
    /// A precision this CPU cannot run (`reason`, the runtime's), or INT8 asked of a float model: its activation ranges
    /// would come from random inputs, not images.
    case unsupportedPrecision(Precision, path: String, reason: String)

    /// Which file format a model came in.
    public enum ModelFormat: String, Sendable, Equatable {
        case checkpoint
        case onnx = "ONNX"
    }

    public var description: String {
        switch self {
        case let .noSuchFile(format, path): "\(format.rawValue): no such file: \(path)"
        case let .unreadableModel(_, _, reason): reason
        case let .notTwoClasses(path, classes): "checkpoint \(path) is a \(classes)-class model; a classifier needs normal/pneumonia (2 classes)"
        case let .unsupportedInput(path, shape): "ONNX \(path) takes input \(describe(shape)); a classifier needs [N, 1 or 3, S, S]"
        case let .fixedBatch(path, batch): "ONNX \(path) has a fixed batch of \(batch); export it with batch 1 or a symbolic batch"
        case let .invalidStoredValue(origin, text, expected): "\(origin) is '\(text)', not \(expected)"
        case let .invalidTemperature(t): "the model's stored temperature \(t) is not a positive number"
        case let .invalidThreshold(t): "the threshold must be in [0, 1], got \(t)"
        case let .undecodableImage(name, _, reason): "\(name): \(reason)"
        case let .wrongShape(expected, got):
            "the classifier takes a batch [N, \(expected.map(String.init).joined(separator: ", "))] with N ≥ 1, got \(describe(got))"
        case let .nonFiniteInput(index, value): "batch element \(describe(index)) is \(value); the classifier's input must be finite"
        case let .unsupportedPrecision(precision, path, reason): "\(path) cannot run in \(precision.rawValue): \(reason)"
        }
    }
}
