import Foundation
import GraphCore
import Imaging
import ClinicalMetrics
import Models
import ONNX
import Runtime
import Train

/// A two-class chest X-ray model ready to serve: calibrated P(pneumonia) = σ((l₁ − l₀)/T) and the label at a
/// threshold, for batches of images preprocessed as PneumoniaMNIST was built (`MedMNISTPreprocessing`).
///
/// A value type over a shared `Runtime`: copies and concurrent calls (from an HTTP server's tasks) share its plans,
/// one compiled per batch size on first use. T and the threshold are the ones stored with the model (checkpoint info
/// `temperature` / `threshold`, ONNX metadata_props `pneumo.temperature` / `pneumo.threshold`); T = 1 and threshold
/// 0.5 without them.
public struct Classifier: Sendable, CustomStringConvertible {
    /// The threshold of a model that stores none.
    public static let defaultThreshold = 0.5

    /// The model and its file: `pneumonet (checkpoint runs/best.safetensors)`.
    public let description: String
    /// `[C, S, S]`: what one preprocessed image is.
    public let sampleShape: [Int]
    /// The threshold stored with the model, if any.
    public let storedThreshold: Double?
    /// Where the stored threshold comes from, for reports ("stored in the checkpoint").
    public let thresholdOrigin: String
    /// Temperature scaling stored with the model (fitted on val when it was trained); identity without one.
    public let temperature: TemperatureScaling
    /// Decoded image → `[N, C, S, S]` input, as MedMNIST built the dataset.
    public let preprocessing: MedMNISTPreprocessing
    /// The compiled model, shared by copies: what a server batches requests into.
    public let runtime: Runtime
    /// The name of the logits output (`logits` for our models; an ONNX file's first output).
    public let outputName: String

    public var channels: Int { sampleShape[0] }
    public var inputSize: Int { sampleShape[1] }
    /// The threshold `classify` uses unless told otherwise: the stored one, else `defaultThreshold`.
    public var threshold: Double { storedThreshold ?? Self.defaultThreshold }

    /// Reads a checkpoint written by training (safetensors with the model descriptor in its metadata). `precision`: the
    /// arithmetic its plans run (`Runtime.precision`; by default the model's own).
    public init(checkpoint path: String, precision: Precision? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ClassifierError.noSuchFile(.checkpoint, path: path) }
        let ckpt: Checkpoint, graph: Graph
        do {
            ckpt = try Checkpoint.read(URL(fileURLWithPath: path))
            graph = try ckpt.graph()
        } catch {
            throw ClassifierError.unreadableModel(.checkpoint, path: path, reason: "\(error)")
        }
        let d = ckpt.descriptor
        guard d.classes == 2 else { throw ClassifierError.notTwoClasses(path: path, classes: d.classes) }
        let sampleShape = Array(d.inputShape(batch: 1).dropFirst())
        try self.init(description: "\(d.model) (checkpoint \(path))", sampleShape: sampleShape,
                      storedThreshold: try Self.threshold(ckpt.info["threshold"], origin: "checkpoint \(path) info \"threshold\""),
                      thresholdOrigin: "stored in the checkpoint",
                      temperature: try Self.temperature(ckpt.info["temperature"], origin: "checkpoint \(path) info \"temperature\""),
                      runtime: Runtime(graph: graph, parameters: ckpt.parameters, sampleShape: sampleShape,
                                       precision: try Self.precision(precision, of: graph, path: path)),
                      outputName: "logits")
    }

    /// Reads an ONNX model taking `[N, 1 or 3, S, S]` (batch 1 or symbolic) whose first output is the two logits.
    /// `precision` as for a checkpoint.
    public init(onnx path: String, precision: Precision? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ClassifierError.noSuchFile(.onnx, path: path) }
        let model: ONNXModel
        do {
            model = try ONNXModel(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ClassifierError.unreadableModel(.onnx, path: path, reason: "\(error)")
        }
        let shape = model.inputShape
        guard shape.count == 4, shape[2] == shape[3], [1, 3].contains(shape[1]) else {
            throw ClassifierError.unsupportedInput(path: path, shape: shape)
        }
        guard model.dynamicBatch || shape[0] == 1 else { throw ClassifierError.fixedBatch(path: path, batch: shape[0]) }
        let name = model.metadata["pneumo.model"].flatMap { try? JSONDecoder().decode(ModelDescriptor.self, from: Data($0.utf8)) }?.model
        let sampleShape = Array(shape.dropFirst())
        // A file that names neither a pneumo model nor its producer is described by its path alone.
        let what = name ?? model.producer.trimmingCharacters(in: .whitespaces)
        try self.init(description: what.isEmpty ? "ONNX \(path)" : "\(what) (ONNX \(path))", sampleShape: sampleShape,
                      storedThreshold: try Self.threshold(model.metadata["pneumo.threshold"], origin: "ONNX \(path) metadata_props \"pneumo.threshold\""),
                      thresholdOrigin: "stored in the ONNX metadata",
                      temperature: try Self.temperature(model.metadata["pneumo.temperature"], origin: "ONNX \(path) metadata_props \"pneumo.temperature\""),
                      runtime: Runtime(graph: model.graph, parameters: model.parameters, inputName: model.inputName, sampleShape: sampleShape,
                                       precision: try Self.precision(precision, of: model.graph, path: path)),
                      outputName: model.outputNames.first ?? "logits")
    }

    private init(description: String, sampleShape: [Int], storedThreshold: Double?, thresholdOrigin: String,
                 temperature: TemperatureScaling, runtime: Runtime, outputName: String) throws {
        self.description = description; self.sampleShape = sampleShape; self.outputName = outputName
        self.storedThreshold = storedThreshold; self.thresholdOrigin = thresholdOrigin
        self.temperature = temperature; self.runtime = runtime
        preprocessing = try MedMNISTPreprocessing(size: sampleShape[1], channels: sampleShape[0])
    }

    /// `requested` where this CPU runs it; INT8 only for a model quantized with its own ranges (a float model's would be
    /// calibrated on random inputs).
    private static func precision(_ requested: Precision?, of graph: Graph, path: String) throws -> Precision? {
        guard let requested else { return nil }
        if let reason = Precision.unsupportedReason(requested) {
            throw ClassifierError.unsupportedPrecision(requested, path: path, reason: reason)
        }
        if requested == .int8 && !Int8Quantization.isQuantized(graph) {
            throw ClassifierError.unsupportedPrecision(.int8, path: path, reason: "it is a float model; quantize it with pneumo optimize "
                                                       + "(a quantize-int8 step calibrates on real images) and serve that file")
        }
        return requested
    }

    private static func threshold(_ text: String?, origin: String) throws -> Double? {
        guard let text else { return nil }
        guard let t = Double(text.trimmingCharacters(in: .whitespaces)), (0...1).contains(t) else {
            throw ClassifierError.invalidStoredValue(origin: origin, text: text, expected: "a number in [0, 1]")
        }
        return t
    }

    private static func temperature(_ text: String?, origin: String) throws -> TemperatureScaling {
        guard let text else { return .identity }
        guard let t = Double(text.trimmingCharacters(in: .whitespaces)), let scaling = try? TemperatureScaling(temperature: t) else {
            throw ClassifierError.invalidStoredValue(origin: origin, text: text, expected: "a positive number")
        }
        return scaling
    }
}
