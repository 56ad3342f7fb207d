import GraphCore

extension ArchitectureRewrites {
    /// Structured channel pruning: in every chain `conv A → batch-norm → ReLU/ReLU6 → conv B` (each node
    /// read only by the next, A and B dense, all tensors parameters used once; in ResNet every block's
    /// conv1 → bn1 → relu → conv2), removes the `⌊fraction·K⌋` output channels of A with the lowest L1
    /// weight norm (at least one channel stays): A's weight rows and bias, the batch-norm's four
    /// per-channel tensors, and the matching input channels of B's weight. Names are unchanged.
    ///
    /// Preserves: the function exactly when every removed channel is dead after the ReLU (its
    /// pre-activation never positive, e.g. zero weights and a negative batch-norm shift); otherwise the
    /// removed channels' contributions to B are lost: needs fine-tuning. A's parameters and MACs shrink
    /// by the kept fraction, and so do B's.
    public static func pruneChannels(_ graph: Graph, _ parameters: ParameterStore, fraction: Double) throws -> RewriteResult {
        guard fraction >= 0, fraction < 1 else { throw EngineError.invalid("prune channels", "fraction must be in [0, 1), got \(fraction)") }
        let chains = pruneChains(graph)
        var keep: [Int: [Int]] = [:]   // conv A node → kept output channels, ascending
        for chain in chains {
            let weightID = graph.nodes[chain.a].inputs[1]
            let w = try RewriteSupport.tensor(weightID, graph, parameters, "prune channels").scalars
            let k = graph[weightID].shape[0], per = w.count / k
            var norms = [Float](repeating: 0, count: k)
            for o in 0..<k { for j in 0..<per { norms[o] += abs(w[o * per + j]) } }
            let kept = max(1, k - Int(fraction * Double(k)))
            // Highest norms first; ties keep the lower index.
            let ranked = (0..<k).sorted { a, b in norms[a] != norms[b] ? norms[a] > norms[b] : a < b }
            keep[chain.a] = Array(ranked.prefix(kept)).sorted()
        }
        let chainOfBN = Dictionary(uniqueKeysWithValues: chains.map { ($0.bn, $0.a) })
        let chainOfB = Dictionary(uniqueKeysWithValues: chains.map { ($0.b, $0.a) })
        var r = GraphRewriter(graph, parameters: parameters)
        var changes: [LayerChange] = []
        /// Re-declares the leaf `id` keeping `rows` along `axis` (0: output channels, 1: input channels).
        func sliced(_ id: ValueID, _ rows: [Int], axis: Int) throws -> (ValueID, error: Double) {
            let t = try RewriteSupport.tensor(id, graph, parameters, "prune channels")
            let name: String = switch graph[id].op { case .parameter(let n), .buffer(let n): n; default: graph[id].name }
            let s = t.shape, v = t.scalars
            var newShape = s
            newShape[axis] = rows.count
            let outer = s[..<axis].reduce(1, *), inner = s[(axis + 1)...].reduce(1, *)
            var out: [Float] = []
            out.reserveCapacity(newShape.reduce(1, *))
            var kept = [Float](repeating: 0, count: v.count)
            for o in 0..<outer {
                for row in rows {
                    let base = (o * s[axis] + row) * inner
                    out.append(contentsOf: v[base..<(base + inner)])
                    for j in 0..<inner { kept[base + j] = v[base + j] }
                }
            }
            let newID = r.emitParameter(name, try Tensor(shape: newShape, scalars: out), trainable: RewriteSupport.isTrainable(id, graph))
            return (newID, RewriteSupport.relativeError(v, kept))
        }
        for (i, node) in graph.nodes.enumerated() {
            if let rows = keep[i] {                        // conv A: fewer output channels
                let (w, error) = try sliced(node.inputs[1], rows, axis: 0)
                let bias = node.inputs.count == 3 ? [try sliced(node.inputs[2], rows, axis: 0).0] : []
                r.alias(i, to: r.emit(Node(op: node.op, inputs: [r.mapped(node.inputs[0]), w] + bias, shape: [], name: node.name)))
                let k = graph[node.inputs[1]].shape[0]
                changes.append(LayerChange(layer: node.name, detail: "output channels \(k) → \(rows.count)", weightError: error))
            } else if let a = chainOfBN[i], let rows = keep[a] {   // its batch-norm
                var inputs = [r.mapped(node.inputs[0])]
                for id in node.inputs.dropFirst() { inputs.append(try sliced(id, rows, axis: 0).0) }
                r.alias(i, to: r.emit(Node(op: node.op, inputs: inputs, shape: [], name: node.name)))
            } else if let a = chainOfB[i], let rows = keep[a] {    // conv B: fewer input channels
                let (w, error) = try sliced(node.inputs[1], rows, axis: 1)
                var inputs = [r.mapped(node.inputs[0]), w]
                if node.inputs.count == 3 { inputs.append(r.mapped(node.inputs[2])) }
                r.alias(i, to: r.emit(Node(op: node.op, inputs: inputs, shape: [], name: node.name)))
                let c = graph[node.inputs[1]].shape[1]
                changes.append(LayerChange(layer: node.name, detail: "input channels \(c) → \(rows.count)", weightError: error))
            } else {
                r.keep(i)
            }
        }
        return try RewriteSupport.finish(r, changes)
    }

    /// The `conv A → batch-norm → ReLU → conv B` chains `pruneChannels` can cut.
    public static func pruneChains(_ graph: Graph) -> [(a: Int, bn: Int, activation: Int, b: Int)] {
        let consumers = graph.consumerCounts()
        var reader = [Int?](repeating: nil, count: graph.nodes.count)
        for (i, n) in graph.nodes.enumerated() { for input in n.inputs { reader[input.index] = i } }
        let sites = Dictionary(uniqueKeysWithValues: graph.convSites().filter { $0.attributes.groups == 1 }.map { ($0.node, $0) })
        func sole(_ i: Int) -> Int? { consumers[i] == 1 ? reader[i] : nil }
        var chains: [(Int, Int, Int, Int)] = []
        for (a, _) in sites.sorted(by: { $0.key < $1.key }) {
            guard let bn = sole(a), case .batchNorm2d = graph.nodes[bn].op,
                  graph.nodes[bn].inputs.dropFirst().allSatisfy({ graph[$0].op.isLeaf && consumers[$0.index] == 1 }),
                  let act = sole(bn), graph.nodes[act].op == .relu || graph.nodes[act].op == .relu6,
                  let b = sole(act), sites[b] != nil, graph.nodes[b].inputs[0].index == act else { continue }
            chains.append((a, bn, act, b))
        }
        return chains
    }
}
