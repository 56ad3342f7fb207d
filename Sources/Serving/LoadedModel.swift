import GraphCore
import ClinicalMetrics

/// A model's inference graph and weights, with what was stored beside them: what `ModelSource.load` returns and the
/// profiler, the SLA scorecard and the benchmarks take.
public struct LoadedModel: Sendable {
    public var name: String
    public var graph: Graph
    public var parameters: ParameterStore
    /// `[C, H, W]`: the input without its batch dimension.
    public var sampleShape: [Int]
    public var inputName = "image"
    /// The decision threshold stored with the model (checkpoint info or ONNX metadata), if any.
    public var threshold: Double?
    /// The temperature stored with the model (checkpoint info or ONNX metadata `pneumo.temperature`), if any.
    public var temperature: Double?

    public init(name: String, graph: Graph, parameters: ParameterStore, sampleShape: [Int]) {
        self.name = name; self.graph = graph; self.parameters = parameters; self.sampleShape = sampleShape
    }

    /// The stored temperature as a scaling; a stored value that is not a positive number is refused.
    public func temperatureScaling() throws -> TemperatureScaling {
        guard let temperature else { return .identity }
        guard let scaling = try? TemperatureScaling(temperature: temperature) else { throw ClassifierError.invalidTemperature(temperature) }
        return scaling
    }
}
