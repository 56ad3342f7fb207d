import Foundation
import GraphCore
import Metrics
import Runtime
import Serving

/// A model the server answers for: its protocol metadata, a runtime that computes batches, and what `classify`
/// needs (preprocessing, the stored threshold and temperature). Immutable and safe to share.
public struct ServedModel: Sendable {
    public let name: String
    public let version: String
    /// What the model is, for logs (`pneumonet (ONNX models/pneumonet/1/model.onnx)`).
    public let description: String
    public let inputName: String
    /// The input's shape without the batch dimension: `[C, H, W]`.
    public let sampleShape: [Int]
    public let outputName: String
    public let classes: Int
    /// The decision threshold on P(pneumonia) stored with the model (0.5 when it stores none).
    public let threshold: Double
    public let thresholdSource: String
    /// Calibrated P(pneumonia) from the logits `[l₀, l₁]` of one image.
    public let probability: @Sendable (_ normal: Float, _ pneumonia: Float) -> Double
    /// Encoded PNG/JPEG images → the `[N] + sampleShape` batch the model takes; throws `ClassifierError.undecodableImage`.
    public let preprocess: @Sendable ([EncodedImage]) throws -> Tensor
    public let runtime: Runtime

    public init(name: String, version: String = "1", description: String, runtime: Runtime, outputName: String, classes: Int,
                threshold: Double?, thresholdSource: String, probability: @escaping @Sendable (Float, Float) -> Double,
                preprocess: @escaping @Sendable ([EncodedImage]) throws -> Tensor) {
        self.name = name; self.version = version; self.description = description
        self.inputName = runtime.inputName; self.sampleShape = runtime.sampleShape
        self.outputName = outputName; self.classes = classes
        self.threshold = threshold ?? 0.5
        self.thresholdSource = threshold == nil ? "default: the model stores no threshold" : thresholdSource
        self.probability = probability; self.preprocess = preprocess; self.runtime = runtime
    }

    public var metadata: ModelMetadataResponse {
        ModelMetadataResponse(name: name, versions: [version], platform: "pneumo_runtime",
                              inputs: [TensorMetadata(name: inputName, datatype: "FP32", shape: [-1] + sampleShape)],
                              outputs: [TensorMetadata(name: outputName, datatype: "FP32", shape: [-1, classes])])
    }
}

extension ServedModel {
    /// A classifier (from a checkpoint or an ONNX file) served under `name`: its runtime, stored threshold and temperature.
    public init(classifier c: Classifier, name: String, version: String = "1") {
        let temperature = c.temperature
        self.init(name: name, version: version, description: c.description, runtime: c.runtime, outputName: c.outputName, classes: 2,
                  threshold: c.storedThreshold, thresholdSource: c.thresholdOrigin,
                  probability: { l0, l1 in temperature.apply(1 / (1 + exp(Double(l0 - l1)))) },
                  preprocess: { try c.preprocess($0) })
    }
}
