import Foundation
import ClinicalMetrics
import Models
import NN

/// A model's parameters and buffers (PyTorch state-dict names) in safetensors, with the model descriptor
/// and training facts in the metadata.
public struct Checkpoint: Sendable {
    public var descriptor: ModelDescriptor
    public var parameters: ParameterStore
    /// Extra facts: `epoch`, `val_auc`, `threshold`, …
    public var info: [String: String]
    /// Tensors stored beside the model's (the optimizer state of a run's last checkpoint).
    public var extraTensors: [(name: String, tensor: Tensor)] = []
    /// The model's own inference graph when it is not a zoo model as built (a rewritten or optimized
    /// one); stored as JSON in the metadata under `pneumo.graph`.
    public var customGraph: Graph?

    static let graphKey = "pneumo.graph"

    /// The inference graph (input `image`, output logits) these parameters belong to.
    public func graph() throws -> Graph {
        if let customGraph { return customGraph }
        return try descriptor.graph().graph
    }

    public static let optimizerPrefix = "optimizer."

    /// The temperature stored with the model (info `temperature`), or the identity when there is none.
    public func temperatureScaling() throws -> TemperatureScaling {
        guard let text = info["temperature"] else { return .identity }
        guard let t = Double(text) else { throw TrainingError("checkpoint info 'temperature' is not a number: '\(text)'") }
        return try TemperatureScaling(temperature: t)
    }

    public init(descriptor: ModelDescriptor, parameters: ParameterStore, info: [String: String] = [:]) {
        self.descriptor = descriptor; self.parameters = parameters; self.info = info
    }

    static let modelKey = "pneumo.model"

    public func write(to url: URL) throws {
        var metadata = info.reduce(into: [String: String]()) { $0["pneumo." + $1.key] = $1.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the same model and weights give the same bytes, run after run
        metadata[Self.modelKey] = String(decoding: try encoder.encode(descriptor), as: UTF8.self)
        metadata["format"] = "pt"   // what safetensors' PyTorch loader expects
        if let customGraph { metadata[Self.graphKey] = String(decoding: try encoder.encode(customGraph), as: UTF8.self) }
        try Safetensors.write(parameters.names.map { ($0, parameters[$0]!) } + extraTensors, metadata: metadata, to: url)
    }

    /// Reads a checkpoint and checks it against the model it names: every parameter and buffer present
    /// with the right shape, nothing unknown.
    public static func read(_ url: URL) throws -> Checkpoint {
        let file = try Safetensors.read(url)
        guard let json = file.metadata[modelKey] else {
            throw Safetensors.Error(path: url.path, message: "not a Pneumo checkpoint: metadata '\(modelKey)' is missing or invalid")
        }
        let descriptor: ModelDescriptor
        do { descriptor = try JSONDecoder().decode(ModelDescriptor.self, from: Data(json.utf8)) } catch {
            throw Safetensors.Error(path: url.path, message: "not a Pneumo checkpoint: metadata '\(modelKey)' is missing or invalid (\(reason(error)))")
        }
        var customGraph: Graph?
        var parameters: ParameterStore
        if let json = file.metadata[graphKey] {
            let graph: Graph
            do {
                graph = try JSONDecoder().decode(Graph.self, from: Data(json.utf8))
                try graph.validate(inputs: ["image": descriptor.inputShape(batch: 1)])
            } catch {
                throw Safetensors.Error(path: url.path, message: "metadata '\(graphKey)' is not a valid model graph: \(error)")
            }
            parameters = ParameterStore()
            for leaf in graph.leaves { parameters.declare(leaf.name, Tensor(zeros: leaf.shape), trainable: leaf.trainable) }
            customGraph = graph
        } else {
            do { parameters = try descriptor.graph().parameters } catch {
                throw Safetensors.Error(path: url.path, message: "metadata '\(modelKey)' describes a model that cannot be built: \(error)")
            }
        }
        try load(file, into: &parameters, path: url.path)
        var info: [String: String] = [:]
        for (k, v) in file.metadata where k.hasPrefix("pneumo.") && k != modelKey { info[String(k.dropFirst(7))] = v }
        var checkpoint = Checkpoint(descriptor: descriptor, parameters: parameters, info: info)
        checkpoint.extraTensors = file.tensors.filter { $0.name.hasPrefix(optimizerPrefix) }
        checkpoint.customGraph = customGraph
        return checkpoint
    }

    /// A decoding error as its JSON path and problem (`options.width: Expected to decode Double but found a string instead.`).
    static func reason(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        let context: DecodingError.Context
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return "\(e)"
        }
        var path = context.codingPath.map(\.stringValue).joined(separator: ".")
        if case .keyNotFound(let key, _) = e { path += (path.isEmpty ? "" : ".") + key.stringValue }
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    }

    /// Copies the file's tensors into `parameters`, failing on a missing, unexpected or misshapen tensor.
    public static func load(_ file: Safetensors.File, into parameters: inout ParameterStore, path: String) throws {
        let known = Set(parameters.names)
        if let extra = file.tensors.first(where: {
            !known.contains($0.name) && !$0.name.hasSuffix("num_batches_tracked") && !$0.name.hasPrefix(optimizerPrefix)
        }) {
            throw Safetensors.Error(path: path, message: "tensor '\(extra.name)' does not belong to this model (a checkpoint of another model?)")
        }
        for name in parameters.names {
            guard let t = file[name] else {
                throw Safetensors.Error(path: path, message: "tensor '\(name)' is missing (a checkpoint of another model?)")
            }
            guard t.shape == parameters[name]!.shape else {
                throw Safetensors.Error(path: path, message: "tensor '\(name)' has shape \(t.shape), the model needs \(parameters[name]!.shape)")
            }
            try parameters.set(name, t)
        }
    }
}
