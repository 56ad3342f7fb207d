import GraphCore
import Foundation

/// A model imported from ONNX: the IR graph (input → outputs), its parameters, and what the file said
/// about its input and outputs. Runs on any `Backend` through the engine's `Executor`.
public struct ONNXModel: Sendable {
    /// One input node named `inputName`, outputs in the file's order.
    public var graph: Graph
    /// Initializers used as operands, under their ONNX names (`layer1.0.conv1.weight`; torch's folded
    /// `onnx::Conv_193`); batch-norm running statistics are buffers, the rest trainable.
    public var parameters: ParameterStore
    public var inputName: String
    /// `[N, C, H, W]` with N the file's batch, or 1 where the batch is symbolic. Any batch can be run.
    public var inputShape: [Int]
    /// Whether the file declares the batch symbolic (`dim_param`).
    public var dynamicBatch: Bool
    public var outputNames: [String]
    /// The default-domain opset the file imports.
    public var opset: Int
    /// `producer_name producer_version` (`pytorch 2.5.0`, `pneumo 1`).
    public var producer: String
    /// `metadata_props`.
    public var metadata: [String: String]

    public init(graph: Graph, parameters: ParameterStore, inputName: String, inputShape: [Int], dynamicBatch: Bool,
                outputNames: [String], opset: Int, producer: String, metadata: [String: String]) {
        self.graph = graph; self.parameters = parameters; self.inputName = inputName; self.inputShape = inputShape
        self.dynamicBatch = dynamicBatch; self.outputNames = outputNames; self.opset = opset; self.producer = producer
        self.metadata = metadata
    }

    /// Reads `url` (see `ONNXImporter`).
    public init(contentsOf url: URL, inputShape: [Int]? = nil, limits: ONNXLimits = ONNXLimits()) throws {
        self = try ONNXImporter.load(url: url, inputShape: inputShape, limits: limits)
    }

    /// The outputs (row-major) for `input` `[N, …]` (any N; the other dims as `inputShape`), by an
    /// inference-mode forward pass (batch-norm uses running statistics, dropout is the identity).
    public func run(_ input: Tensor, backend: any Backend) throws -> [Tensor] {
        guard input.rank == inputShape.count, input.shape.dropFirst() == inputShape.dropFirst(), input.shape[0] >= 1 else {
            throw EngineError.shape("onnx input '\(inputName)'", "expected \(describe(inputShape)) with any batch size, got \(describe(input.shape))")
        }
        var parameters = self.parameters
        var rng = SeededRandom(seed: 0)
        let pass = try Executor(graph: graph, backend: backend)
            .forward(feeds: [inputName: input], parameters: &parameters, mode: .inference, rng: &rng)
        return graph.outputs.map { pass[$0]!.contiguous() }
    }
}
