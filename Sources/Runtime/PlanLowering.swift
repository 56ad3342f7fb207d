import Engine

/// What the runtime executes: graph nodes grouped into fused operations.
enum PlannedOp {
    /// Convolution with fused post-ops; `residual` is the tensor the fused add reads.
    case conv(node: Int, residual: ValueID?, activation: Op?)
    /// Any other single node (pooling, batch-norm, activation, add, linear, resize, flatten).
    case single(node: Int)
    /// A classifier head: global average pooling, flatten, dropouts, linear (`nodes`, in order); one inner
    /// product over the pooled map where the plan can (`PlanBuilder.poolLinear`).
    case poolLinear(nodes: [Int])
}

/// One planned operation and the node whose value it produces.
struct PlannedStep {
    var op: PlannedOp
    /// The graph node standing for the step's result (the last node fused into it).
    var result: Int
}

/// Groups nodes for fusion: conv → ReLU/ReLU6, and conv → add(residual) → ReLU, where the fused nodes
/// have no other readers. For `add(a, b)`, the operand computed later is the conv fused with the add;
/// the earlier one is the residual (already computed when the conv runs).
enum PlanLowering {
    static func lower(_ graph: Graph, fuse: Bool) -> [PlannedStep] {
        let consumers = graph.consumerCounts()
        var readers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, n) in graph.nodes.enumerated() { for input in n.inputs { readers[input.index].append(i) } }
        var absorbed = Set<Int>()
        var steps: [PlannedStep] = []
        func soleReader(_ i: Int) -> Int? { consumers[i] == 1 && readers[i].count == 1 ? readers[i][0] : nil }
        func activation(after i: Int) -> (Op, Int)? {
            guard let r = soleReader(i) else { return nil }
            switch graph.nodes[r].op {
            case .relu, .relu6: return (graph.nodes[r].op, r)
            default: return nil
            }
        }
        // globalAvgPool → flatten(1) → dropout* → linear, each the previous one's sole reader.
        func head(from pool: Int) -> [Int]? {
            guard let f = soleReader(pool), case .flatten(startDim: 1) = graph.nodes[f].op else { return nil }
            var chain = [pool, f]
            while let r = soleReader(chain.last!), graph.nodes[r].inputs[0].index == chain.last! {
                chain.append(r)
                switch graph.nodes[r].op {
                case .dropout: continue
                case .linear: return chain
                default: return nil
                }
            }
            return nil
        }
        for (i, node) in graph.nodes.enumerated() {
            if node.op.isLeaf || absorbed.contains(i) { continue }
            if fuse, case .globalAvgPool = node.op, let chain = head(from: i) {
                absorbed.formUnion(chain)
                steps.append(PlannedStep(op: .poolLinear(nodes: chain), result: chain.last!))
                continue
            }
            guard fuse, case .conv2d = node.op else { steps.append(PlannedStep(op: .single(node: i), result: i)); continue }
            var result = i
            var residual: ValueID?
            var act: Op?
            if let r = soleReader(i), case .add = graph.nodes[r].op {
                let add = graph.nodes[r]
                let other = add.inputs[0].index == i ? add.inputs[1] : add.inputs[0]
                if other.index < i && add.inputs[0] != add.inputs[1] {
                    residual = other
                    absorbed.insert(r)
                    result = r
                }
            }
            if let (op, r) = activation(after: result) {
                act = op
                absorbed.insert(r)
                result = r
            }
            steps.append(PlannedStep(op: .conv(node: i, residual: residual, activation: act), result: result))
        }
        return steps
    }
}
