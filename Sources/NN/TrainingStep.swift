/// One optimisation step over a graph whose last output is a scalar loss: forward in training mode,
/// reverse-mode backward, optimizer update. Holds the parameters and the optimizer state.
public struct TrainingStep<O: Optimizer> {
    public let executor: Executor
    public var parameters: ParameterStore
    public var optimizer: O
    public var rng: SeededRandom

    public init(graph: Graph, parameters: ParameterStore, optimizer: O, backend: any Backend, seed: UInt64 = 0) {
        executor = Executor(graph: graph, backend: backend)
        self.parameters = parameters
        self.optimizer = optimizer
        rng = SeededRandom(seed: seed)
    }

    /// A loss computed outside the graph from the logits (the graph's first output) and the labels: its
    /// value and d loss / d logits. The graph's own loss output is then computed but not differentiated.
    public typealias LogitsLoss = (_ logits: Tensor, _ labels: Tensor) throws -> (loss: Float, gradient: Tensor)

    /// Runs one step on a batch and returns the loss and the logits (the graph's first output). With `loss`,
    /// that loss is minimised instead of the graph's (see `LogitsLoss`).
    @discardableResult
    public mutating func callAsFunction(image: Tensor, label: Tensor, learningRate: Float,
                                        loss: LogitsLoss? = nil) throws -> (loss: Float, logits: Tensor) {
        let (value, logits, gradients) = try computeGradients(image: image, label: label, loss: loss)
        try optimizer.step(&parameters, gradients: gradients, learningRate: learningRate, on: executor.backend)
        return (value, logits)
    }

    /// Forward and backward only; the forward pass is released before returning, so that the optimizer
    /// can update parameters in place.
    public mutating func computeGradients(image: Tensor, label: Tensor,
                                          loss custom: LogitsLoss? = nil) throws -> (loss: Float, logits: Tensor, gradients: [String: Tensor]) {
        let pass = try executor.forward(feeds: ["image": image, "label": label], parameters: &parameters, mode: .training, rng: &rng)
        let graph = executor.graph
        let logits = pass[graph.outputs[0]]!
        if let custom {
            let (loss, gradient) = try custom(logits, label)
            return (loss, logits, try executor.backward(pass, seed: graph.outputs[0], gradient: gradient))
        }
        let loss = pass[graph.outputs.last!]!.scalars[0]
        let gradients = try executor.backward(pass)
        return (loss, logits, gradients)
    }
}
