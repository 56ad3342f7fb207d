import GraphCore

extension ArchitectureRewrites {
    /// Grouped convolutions: each selected dense convolution whose input and output channels `groups`
    /// divides becomes a `groups`-group convolution, keeping the block-diagonal part of its weight
    /// (output channel k in group `k / (K/g)` keeps the input channels of that group):
    /// `W [K, C, kH, kW] → W' [K, C/g, kH, kW]`, `W'[k, j] = W[k, g(k)·C/g + j]`.
    ///
    /// Preserves: the function exactly when W is already block-diagonal; otherwise the dropped
    /// cross-group weights (a fraction `1 − 1/g` of them) change it: needs fine-tuning. Parameters and
    /// MACs of each rewritten layer divide by `g`. The weight keeps its name.
    public static func groupConvolutions(_ graph: Graph, _ parameters: ParameterStore, groups: Int,
                                         selection: ConvSelection = .blockConvolutions) throws -> RewriteResult {
        guard groups >= 2 else { throw EngineError.invalid("group convolutions", "groups must be at least 2, got \(groups)") }
        let sites = graph.convSites().filter { selection.includes($0) && $0.inChannels % groups == 0 && $0.outChannels % groups == 0 }
        let selected = Dictionary(uniqueKeysWithValues: sites.map { ($0.node, $0) })
        var r = GraphRewriter(graph, parameters: parameters)
        var changes: [LayerChange] = []
        for (i, node) in graph.nodes.enumerated() {
            guard let s = selected[i] else { r.keep(i); continue }
            let (k, c, kh, kw) = (s.weightShape[0], s.weightShape[1], s.weightShape[2], s.weightShape[3])
            let (kg, cg, taps) = (k / groups, c / groups, kh * kw)
            let w = try RewriteSupport.tensor(node.inputs[1], graph, parameters, "group convolutions").scalars
            var grouped = [Float](repeating: 0, count: k * cg * taps)
            var kept = [Float](repeating: 0, count: w.count)   // W' written back in W's shape
            for o in 0..<k {
                let base = (o / kg) * cg
                for j in 0..<cg {
                    for t in 0..<taps {
                        let v = w[(o * c + base + j) * taps + t]
                        grouped[(o * cg + j) * taps + t] = v
                        kept[(o * c + base + j) * taps + t] = v
                    }
                }
            }
            let weight = r.emitParameter(s.weightName, try Tensor(shape: [k, cg, kh, kw], scalars: grouped))
            var a = s.attributes
            a.groups = groups
            let bias = node.inputs.count == 3 ? [r.mapped(node.inputs[2])] : []
            r.alias(i, to: r.emit(Node(op: .conv2d(a), inputs: [r.mapped(node.inputs[0]), weight] + bias, shape: [], name: s.name)))
            changes.append(LayerChange(layer: s.name, detail: "\(RewriteSupport.shape(s.weightShape)) → groups \(groups): "
                                       + RewriteSupport.shape([k, cg, kh, kw]), weightError: RewriteSupport.relativeError(w, kept)))
        }
        return try RewriteSupport.finish(r, changes)
    }
}
