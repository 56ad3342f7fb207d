import GraphCore

extension ArchitectureRewrites {
    /// Drops every bilinear resize: each reader of a resize reads the resize's input instead, so the
    /// network runs at the size it is fed (the spec baseline's 64 → 224 px upsampling disappears).
    ///
    /// Preserves: every parameter (convolutions, pooling and the global average pool are size-agnostic),
    /// and the function exactly for inputs already at the resize's target size (there the resize is the
    /// identity). At any other size the network sees features at scales it was not trained on: needs
    /// fine-tuning at the native size. MACs scale with the spatial area, `(64/224)²` for the baseline.
    public static func removeInterpolation(_ graph: Graph, _ parameters: ParameterStore) throws -> RewriteResult {
        var r = GraphRewriter(graph, parameters: parameters)
        var changes: [LayerChange] = []
        for (i, node) in graph.nodes.enumerated() {
            guard case .resizeBilinear(let h, let w) = node.op else { r.keep(i); continue }
            r.alias(i, to: r.mapped(node.inputs[0]))
            changes.append(LayerChange(layer: node.name.isEmpty ? "resize_bilinear" : node.name,
                                       detail: "bilinear resize to \(h)×\(w) removed", weightError: 0))
        }
        return try RewriteSupport.finish(r, changes)
    }
}
