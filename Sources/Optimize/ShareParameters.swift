import GraphCore

extension ArchitectureRewrites {
    /// Parameter sharing (weight tying): the convolution weights named in `tying` (tied → kept) become
    /// one parameter, stored under the kept name and read by both convolutions. With `tying` nil, each
    /// ResNet BasicBlock ties `<block>.conv2.weight` to `<block>.conv1.weight` where their shapes match
    /// (every block whose conv1 keeps the width: `layer1.0` and the second block of each stage in ResNet-18).
    /// The shared value is the mean `(W₁ + W₂)/2`, which minimises `‖W₁ − S‖² + ‖W₂ − S‖²`.
    ///
    /// Preserves: the function only when the tied weights are already equal; otherwise needs retraining.
    /// Trainable parameters drop by the tied weights; MACs do not change (both convolutions still run).
    /// Each convolution keeps its own batch-norm. Pairs whose weights are read elsewhere are skipped.
    public static func shareParameters(_ graph: Graph, _ parameters: ParameterStore,
                                       tying: [String: String]? = nil) throws -> RewriteResult {
        let sites = graph.convSites()
        let byWeight = Dictionary(sites.map { ($0.weightName, $0) }, uniquingKeysWith: { a, _ in a })
        let pairs = tying ?? Dictionary(sites.compactMap { s -> (String, String)? in
            guard s.weightName.hasSuffix(".conv2.weight") else { return nil }
            let kept = String(s.weightName.dropLast(".conv2.weight".count)) + ".conv1.weight"
            return (s.weightName, kept)
        }, uniquingKeysWith: { a, _ in a })
        // tied weight name → (tied site, kept site), where shapes match.
        var ties: [String: (tied: ConvSite, kept: ConvSite)] = [:]
        var keptNames: Set<String> = []
        for (tied, kept) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let t = byWeight[tied], let k = byWeight[kept], t.weightShape == k.weightShape, tied != kept,
                  !keptNames.contains(tied), ties[kept] == nil else { continue }
            ties[tied] = (t, k)
            keptNames.insert(kept)
        }
        // Shared values, by kept name.
        var shared: [String: [Float]] = [:]
        var changes: [LayerChange] = []
        for (_, pair) in ties.sorted(by: { $0.value.tied.node < $1.value.tied.node }) {
            guard let w1 = parameters[pair.kept.weightName]?.scalars, let w2 = parameters[pair.tied.weightName]?.scalars else {
                throw EngineError.invalid("share parameters", "no value for '\(pair.kept.weightName)' or '\(pair.tied.weightName)'")
            }
            let mean = zip(w1, w2).map { ($0 + $1) / 2 }
            shared[pair.kept.weightName] = mean
            changes.append(LayerChange(layer: pair.kept.name, detail: "weight shared with \(pair.tied.name)",
                                       weightError: RewriteSupport.relativeError(w1, mean)))
            changes.append(LayerChange(layer: pair.tied.name, detail: "reads \(pair.kept.weightName)",
                                       weightError: RewriteSupport.relativeError(w2, mean)))
        }
        var r = GraphRewriter(graph, parameters: parameters)
        var sharedID: [String: ValueID] = [:]
        // Emitted at first use, so a tied convolution may come before the kept weight's leaf.
        func sharedValue(_ name: String, shape: [Int]) throws -> ValueID {
            if let id = sharedID[name] { return id }
            let id = r.emitParameter(name, try Tensor(shape: shape, scalars: shared[name]!))
            sharedID[name] = id
            return id
        }
        for (i, node) in graph.nodes.enumerated() {
            if case .parameter(let name) = node.op, shared[name] != nil {
                r.alias(i, to: try sharedValue(name, shape: node.shape))
            } else if case .conv2d = node.op, case .parameter(let name) = graph[node.inputs[1]].op, let pair = ties[name] {
                var n = node
                n.inputs = node.inputs.map { r.mapped($0) }
                n.inputs[1] = try sharedValue(pair.kept.weightName, shape: pair.kept.weightShape)
                r.alias(i, to: r.emit(n))
            } else {
                r.keep(i)
            }
        }
        return try RewriteSupport.finish(r, changes)
    }
}
