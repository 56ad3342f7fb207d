import NN

/// A model recorded into the graph IR, with its freshly initialised parameters.
public struct ModelGraph: Sendable {
    /// Inputs `image` `[N, C, S, S]`; outputs `[logits]`.
    public var graph: Graph
    public var parameters: ParameterStore
    public var inputShape: [Int]

    /// Records `model` on an input of `inputShape` (its batch size is only an example).
    public init(_ model: some Layer, inputShape: [Int], seed: UInt64 = 0) throws {
        let b = GraphBuilder(seed: seed)
        let x = b.input("image", shape: inputShape)
        let logits = try model(x)
        b.markOutputs([logits])
        graph = b.graph
        parameters = b.parameters
        self.inputShape = inputShape
    }

    /// The same model with a loss: inputs `image` and `label` `[N]`; outputs `[logits, loss]`.
    public static func training(_ model: some Layer, inputShape: [Int], seed: UInt64 = 0, classWeights: [Float]? = nil) throws -> ModelGraph {
        let b = GraphBuilder(seed: seed)
        let x = b.input("image", shape: inputShape)
        let labels = b.input("label", shape: [inputShape[0]])
        let logits = try model(x)
        let loss = try logits.softmaxCrossEntropy(labels: labels, classWeights: classWeights)
        b.markOutputs([logits, loss])
        var m = try ModelGraph(graph: b.graph, parameters: b.parameters, inputShape: inputShape)
        m.inputShape = inputShape
        return m
    }

    init(graph: Graph, parameters: ParameterStore, inputShape: [Int]) throws {
        self.graph = graph; self.parameters = parameters; self.inputShape = inputShape
    }
}
