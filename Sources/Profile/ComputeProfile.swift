import GraphCore

/// Arithmetic of a graph read exactly from its shapes. MACs count convolution and linear
/// multiply-accumulates (torchvision's convention; 1 MAC = 2 FLOPs; thop and the spec call a MAC a
/// "FLOP"). The bilinear resize of the spec's baseline is reported on its own line, not in the MACs, and so are
/// element-wise operations (`GraphCost.elementwiseOps`: activations, broadcast arithmetic, softmax, means; 0 MACs each).
public struct ComputeProfile: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var name: String
        public var op: String
        public var output_shape: [Int]
        public var parameters: Int
        public var macs: Int
        /// Element-wise operations (`GraphCost.elementwiseOps`), not in `macs`.
        public var elementwise_ops: Int
        /// This layer's share of the model's MACs, in percent.
        public var share_percent: Double
    }

    public var macs_per_sample: Int
    public var flops_per_sample: Int
    public var parameters: Int
    public var parameter_bytes: Int
    /// Interpolated output elements of bilinear resizes per sample (4 multiply-adds each), reported apart.
    public var resize_elements_per_sample: Int
    /// Element-wise operations per sample (`GraphCost.elementwiseOps`), reported apart from the MACs.
    public var elementwise_ops_per_sample: Int
    public var layers: [Layer]

    /// Profiles `graph` for a single sample of `sampleShape` (without the batch dimension).
    public init(graph: Graph, parameters store: ParameterStore, inputName: String = "image", sampleShape: [Int]) throws {
        let shapes = try graph.inferShapes(inputs: [inputName: [1] + sampleShape])
        var rows: [Layer] = []
        var resize = 0
        for (i, node) in graph.nodes.enumerated() where !node.op.isLeaf {
            let macs = GraphCost.macs(of: i, in: graph, shapes: shapes)
            let params = node.inputs.reduce(0) { total, id in
                if case .parameter = graph[id].op { return total + shapes[id.index].reduce(1, *) }
                return total
            }
            if case .resizeBilinear = node.op, shapes[node.inputs[0].index] != shapes[i] { resize += shapes[i].reduce(1, *) }
            rows.append(Layer(name: node.name, op: node.op.kindName, output_shape: shapes[i], parameters: params, macs: macs,
                              elementwise_ops: GraphCost.elementwiseOps(of: i, in: graph, shapes: shapes), share_percent: 0))
        }
        let total = rows.reduce(0) { $0 + $1.macs }
        for k in rows.indices { rows[k].share_percent = total == 0 ? 0 : 100 * Double(rows[k].macs) / Double(total) }
        macs_per_sample = total
        flops_per_sample = ComputeConvention.flops(macs: total)
        parameters = store.trainableCount
        parameter_bytes = store.names.reduce(0) { $0 + (store[$1]?.byteCount ?? 0) }
        resize_elements_per_sample = resize
        elementwise_ops_per_sample = rows.reduce(0) { $0 + $1.elementwise_ops }
        layers = rows
    }

    /// The `count` layers with the most MACs.
    public func topLayers(_ count: Int) -> [Layer] { Array(layers.filter { $0.macs > 0 }.sorted { $0.macs > $1.macs }.prefix(count)) }
}
