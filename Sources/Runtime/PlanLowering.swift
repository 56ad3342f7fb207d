import GraphCore

/// What the runtime executes: graph nodes grouped into fused operations.
enum PlannedOp {
    /// Convolution with fused post-ops; `residual` is the tensor the fused add reads.
    case conv(node: Int, residual: ValueID?, activation: Op?)
    /// Any other single node (pooling, batch-norm, activation, add, linear, resize, flatten).
    case single(node: Int)
    /// A classifier head: global average pooling, flatten, dropouts, linear (`nodes`, in order); one inner
    /// product over the pooled map where the plan can (`PlanBuilder.poolLinear`).
    case poolLinear(nodes: [Int])
    /// A grouped convolution (its activation fused; `result` stands for its output) whose sole reader is a
    /// 1×1-candidate convolution (ungrouped, stride 1, no padding) with its own fused ops: one step of ours where
    /// the shapes allow (`PlanBuilder.separable`), else two convolution steps.
    case separable(depthwise: (node: Int, activation: Op?, result: Int), pointwise: (node: Int, residual: ValueID?, activation: Op?))
}

/// One planned operation and the node whose value it produces.
struct PlannedStep {
    var op: PlannedOp
    /// The graph node standing for the step's result (the last node fused into it).
    var result: Int

    /// The graph nodes the step computes, and the residual its fused add reads: what it reads is their inputs and that.
    var reads: (nodes: [Int], residual: ValueID?) {
        switch op {
        case .conv(let n, let residual, _): ([n], residual)
        case .single(let n): ([n], nil)
        case .poolLinear(let nodes): (nodes, nil)
        case .separable(let dw, let pw): ([dw.node, pw.node], pw.residual)
        }
    }

    /// The nodes whose values a plan may store for the step: its result, and the depthwise convolution's of a
    /// separable pair, which plans that do not take our kernel (INT8 ones among them) compute as a step of its own.
    var stored: [Int] {
        if case .separable(let dw, _) = op { return [dw.result, result] }
        return [result]
    }
}

/// Groups nodes for fusion: conv → activation (ReLU, ReLU6, sigmoid, hard-sigmoid, hard-swish, swish: one oneDNN
/// eltwise post-op), and conv → add(residual) → activation, where the fused nodes
/// have no other readers. For `add(a, b)`, the operand computed later is the conv fused with the add;
/// the earlier one is the residual (already computed when the conv runs). A grouped convolution (with its
/// activation) and the 1×1 convolution that alone reads it (with its own) form one separable step.
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
            case .relu, .relu6, .activation: return (graph.nodes[r].op, r)
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
            guard fuse, case .conv2d(let a) = node.op else { steps.append(PlannedStep(op: .single(node: i), result: i)); continue }
            let fused = epilogue(of: i, residualBefore: i)
            if a.groups > 1, fused.residual == nil, let p = soleReader(fused.result), case .conv2d(let b) = graph.nodes[p].op,
               b.groups == 1, b.stride == Pair(1), b.padding == Pair(0), graph.nodes[p].inputs[0].index == fused.result,
               case let second = epilogue(of: p, residualBefore: p), (second.residual?.index ?? -1) < i {
                // The 1×1 convolution runs in the depthwise one's place, so its residual must be computed by then; where
                // it is not, the pair stays two convolutions and the 1×1 one keeps its fused add.
                absorbed.formUnion(fused.absorbed + [p] + second.absorbed)
                steps.append(PlannedStep(op: .separable(depthwise: (i, fused.activation, fused.result),
                                                        pointwise: (p, second.residual, second.activation)), result: second.result))
                continue
            }
            absorbed.formUnion(fused.absorbed)
            steps.append(PlannedStep(op: .conv(node: i, residual: fused.residual, activation: fused.activation), result: fused.result))
        }
        return steps

        /// What fuses after convolution `i`: add(residual) when the residual's node comes before `residualBefore`, then
        /// ReLU or ReLU6; the node standing for the result, and the nodes fused.
        func epilogue(of i: Int, residualBefore limit: Int) -> (residual: ValueID?, activation: Op?, result: Int, absorbed: [Int]) {
            var (result, residual, act, fused): (Int, ValueID?, Op?, [Int]) = (i, nil, nil, [])
            if let r = soleReader(i), case .add = graph.nodes[r].op {
                let add = graph.nodes[r]
                let other = add.inputs[0].index == i ? add.inputs[1] : add.inputs[0]
                if other.index < limit && add.inputs[0] != add.inputs[1] {
                    residual = other
                    fused.append(r)
                    result = r
                }
            }
            if let (op, r) = activation(after: result) {
                act = op
                fused.append(r)
                result = r
            }
            return (residual, act, result, fused)
        }
    }
}
