/// Exact arithmetic cost of a graph, read from its shapes: multiply-accumulates of the convolutions and
/// linear layers (the convention torchvision-based counters use; 1 MAC = 2 FLOPs).
public enum GraphCost {
    /// MACs of node `index` given every node's shape (0 for ops other than convolution and linear).
    public static func macs(of index: Int, in graph: Graph, shapes: [[Int]]) -> Int {
        let node = graph.nodes[index]
        switch node.op {
        case .conv2d:
            let w = shapes[node.inputs[1].index]
            return shapes[index].reduce(1, *) * w[1] * w[2] * w[3]
        case .linear:
            let w = shapes[node.inputs[1].index]
            return shapes[node.inputs[0].index][0] * w[0] * w[1]
        default:
            return 0
        }
    }

    /// Element-wise operations of node `index`, which MACs leave out: one per output element of sums, products,
    /// quotients and activations (ReLU included), softmax and batch-norm, and one per input element of a mean or
    /// average pooling; 0 for convolution, linear, data movement (transpose, pad, concat, flatten) and leaves.
    public static func elementwiseOps(of index: Int, in graph: Graph, shapes: [[Int]]) -> Int {
        let node = graph.nodes[index]
        switch node.op {
        case .add, .binary, .relu, .relu6, .activation, .softmax, .batchNorm2d, .fakeQuantize:
            return shapes[index].reduce(1, *)
        case .reduceMean, .globalAvgPool:
            return shapes[node.inputs[0].index].reduce(1, *)
        default:
            return 0
        }
    }

    /// Convolution + linear MACs of a forward pass with the given input shapes.
    public static func forwardMACs(_ graph: Graph, inputs: [String: [Int]]) throws -> Int {
        let shapes = try graph.inferShapes(inputs: inputs)
        return graph.nodes.indices.reduce(0) { $0 + macs(of: $1, in: graph, shapes: shapes) }
    }

    /// MACs of a training step: the forward, the weight gradients (same count again) and the input
    /// gradients of every layer whose input needs one (not the first layer, whose input is the image).
    public static func trainingMACs(_ graph: Graph, inputs: [String: [Int]]) throws -> Int {
        let shapes = try graph.inferShapes(inputs: inputs)
        var dependsOnParameter = [Bool](repeating: false, count: graph.nodes.count)
        var total = 0
        for (i, node) in graph.nodes.enumerated() {
            if case .parameter = node.op { dependsOnParameter[i] = true; continue }
            dependsOnParameter[i] = node.inputs.contains { dependsOnParameter[$0.index] }
            let m = macs(of: i, in: graph, shapes: shapes)
            guard m > 0 else { continue }
            total += 2 * m + (dependsOnParameter[node.inputs[0].index] ? m : 0)
        }
        return total
    }
}
