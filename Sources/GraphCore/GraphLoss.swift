extension Graph {
    /// The training form of an inference graph whose first output is `[N, K]` logits: an input `label`
    /// `[N]` and a softmax cross-entropy node are appended; outputs become `[logits, loss]`.
    public func appendingLoss(classWeights: [Float]? = nil, labelName: String = "label") throws -> Graph {
        guard let logits = outputs.first else { throw EngineError.invalid("graph", "no output to train") }
        guard self[logits].shape.count == 2 else {
            throw EngineError.shape("graph", "the first output must be logits [N, K], got \(describe(self[logits].shape))")
        }
        var g = self
        g.nodes.append(Node(op: .input(name: labelName), inputs: [], shape: [self[logits].shape[0]], name: labelName))
        let label = ValueID(g.nodes.count - 1)
        let op = Op.softmaxCrossEntropy(classWeights: classWeights)
        g.nodes.append(Node(op: op, inputs: [logits, label], shape: try ShapeInference.infer(op, [self[logits].shape, [self[logits].shape[0]]], name: "loss"),
                            name: "loss"))
        g.outputs = [logits, ValueID(g.nodes.count - 1)]
        return g
    }

    /// The parameter and buffer leaves with their shapes, in graph order.
    public var leaves: [(name: String, shape: [Int], trainable: Bool)] {
        nodes.compactMap {
            switch $0.op {
            case .parameter(let n): (n, $0.shape, true)
            case .buffer(let n): (n, $0.shape, false)
            default: nil
            }
        }
    }
}
