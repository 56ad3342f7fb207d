import GraphCore

/// Rewrites that keep a trained model's inference function (up to float rounding), used by the runtime
/// and the optimizer. Each states what it preserves; tests check outputs before and after agree.
public enum InferenceRewrites {
    /// Dropout is the identity at inference: removed exactly.
    public static func removeDropout(_ graph: Graph, _ parameters: ParameterStore) -> (graph: Graph, parameters: ParameterStore) {
        var r = GraphRewriter(graph, parameters: parameters)
        for (i, node) in graph.nodes.enumerated() {
            if case .dropout = node.op { r.alias(i, to: r.mapped(node.inputs[0])) } else { r.keep(i) }
        }
        return r.finish()
    }

    /// Folds an inference-mode batch-norm into the convolution that feeds it (when the convolution has
    /// no other reader): `w' = w·γ/√(σ²+ε)` per output channel, `b' = (b − μ)·γ/√(σ²+ε) + β`. Exact in
    /// real arithmetic; float32 rounding changes outputs by ~1e-6 relative. The folded bias is named
    /// `<conv>.bias`, so the result reads like a conv layer with a bias.
    public static func foldBatchNorm(_ graph: Graph, _ parameters: ParameterStore) throws -> (graph: Graph, parameters: ParameterStore) {
        let consumers = graph.consumerCounts()
        // Conv index → the batch-norm that is its only reader.
        var foldable: [Int: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if case .batchNorm2d = node.op, case .conv2d = graph[node.inputs[0]].op, consumers[node.inputs[0].index] == 1 {
                foldable[node.inputs[0].index] = i
            }
        }
        var r = GraphRewriter(graph, parameters: parameters)
        var emittedLayers = Set<String>()
        for (i, node) in graph.nodes.enumerated() {
            if foldable[i] != nil { continue }   // emitted, folded, when its batch-norm is reached
            guard case .batchNorm2d(let a) = node.op, foldable[node.inputs[0].index] == i else { r.keep(i); continue }
            let convIndex = node.inputs[0].index
            guard case .conv2d(let ca) = graph.nodes[convIndex].op else { r.keep(i); continue }
            let conv = graph.nodes[convIndex]
            func value(_ id: ValueID) throws -> Tensor {
                switch graph[id].op {
                case .parameter(let n), .buffer(let n):
                    guard let t = parameters[n] else { throw EngineError.invalid("fold batch-norm", "no value for '\(n)'") }
                    return t
                default: throw EngineError.unsupported("fold batch-norm '\(node.name)'", "its statistics must be parameters")
                }
            }
            let (w, gamma, beta, mean, variance) = (try value(conv.inputs[1]), try value(node.inputs[1]), try value(node.inputs[2]),
                                                    try value(node.inputs[3]), try value(node.inputs[4]))
            let k = w.shape[0], perOut = w.count / k
            let scale = zip(gamma.scalars, variance.scalars).map { $0 / ($1 + a.epsilon).squareRoot() }
            var ws = w.scalars
            for o in 0..<k { for j in 0..<perOut { ws[o * perOut + j] *= scale[o] } }
            let b0 = conv.inputs.count == 3 ? try value(conv.inputs[2]).scalars : [Float](repeating: 0, count: k)
            let (means, betas) = (mean.scalars, beta.scalars)   // once: `scalars` copies the tensor
            let bs = (0..<k).map { (b0[$0] - means[$0]) * scale[$0] + betas[$0] }
            // A weight shared by several convolutions folds differently for each: name each copy after its own conv.
            let shared = consumers[conv.inputs[1].index] > 1
            // Layer names are scope paths, unique in models built from code; graphs from elsewhere may repeat them.
            var layer = conv.name.isEmpty ? "node\(convIndex)" : conv.name
            if !emittedLayers.insert(layer).inserted { layer += ".\(convIndex)"; emittedLayers.insert(layer) }
            let weightName = (shared ? nil : Self.name(of: conv.inputs[1], graph)) ?? layer + ".weight"
            let biasName = layer + ".bias"
            let wID = r.emitParameter(weightName, try Tensor(shape: w.shape, scalars: ws))
            let bID = r.emitParameter(biasName, try Tensor(shape: [k], scalars: bs))
            let x = r.mapped(conv.inputs[0])
            let newConv = r.emit(Node(op: .conv2d(ca), inputs: [x, wID, bID], shape: conv.shape, name: conv.name))
            r.alias(convIndex, to: newConv)
            r.alias(i, to: newConv)
        }
        return r.finish()
    }

    static func name(of id: ValueID, _ graph: Graph) -> String? {
        if case .parameter(let n) = graph[id].op { return n }
        return nil
    }

    /// A resize to the size the input already has is the identity: removed exactly (for a fixed input size).
    public static func removeIdentityResize(_ graph: Graph, _ parameters: ParameterStore, inputShapes: [String: [Int]]) throws
        -> (graph: Graph, parameters: ParameterStore) {
        let shapes = try graph.inferShapes(inputs: inputShapes)
        var r = GraphRewriter(graph, parameters: parameters)
        for (i, node) in graph.nodes.enumerated() {
            if case .resizeBilinear = node.op, shapes[node.inputs[0].index] == shapes[i] { r.alias(i, to: r.mapped(node.inputs[0])) }
            else { r.keep(i) }
        }
        return r.finish()
    }

    /// `x · sigmoid(x)` (how exporters write SiLU: Mul(x, Sigmoid(x)), the sigmoid read by that product alone) is one
    /// swish node: the same function, which the runtime computes in one pass (and fuses into the convolution before
    /// it). Exact up to float rounding (the fused kernel evaluates x·σ(x) its own way: ~1e-7 relative).
    public static func fuseSwish(_ graph: Graph, _ parameters: ParameterStore) -> (graph: Graph, parameters: ParameterStore) {
        let consumers = graph.consumerCounts()
        var r = GraphRewriter(graph, parameters: parameters)
        for (i, node) in graph.nodes.enumerated() {
            guard case .binary(.mul) = node.op, node.inputs[0] != node.inputs[1],
                  let k = node.inputs.firstIndex(where: { id in
                      if case .activation(.sigmoid) = graph[id].op, consumers[id.index] == 1,
                         graph[id].inputs[0] == node.inputs[1 - node.inputs.firstIndex(of: id)!] { true } else { false }
                  }) else { r.keep(i); continue }
            let x = node.inputs[1 - k]
            r.alias(i, to: r.emit(Node(op: .activation(.swish), inputs: [r.mapped(x)], shape: node.shape, name: node.name)))
        }
        return r.finish()
    }

    /// Everything an inference plan wants before fusion: no dropout, batch-norms folded, x·σ(x) as one swish.
    public static func prepareForInference(_ graph: Graph, _ parameters: ParameterStore) throws -> (graph: Graph, parameters: ParameterStore) {
        let (g, p) = removeDropout(graph, parameters)
        let (folded, q) = try foldBatchNorm(g, p)
        return fuseSwish(folded, q)
    }
}
