/// Batch-norm followed by ReLU, as two ops: the definition the fused kernels are tested against, and what a
/// device without a fused kernel runs. The mask is the ReLU's output itself (positive exactly where it passes
/// the gradient).
extension Backend {
    public func batchNormReLUTraining(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) throws
        -> (output: Tensor, mean: Tensor, variance: Tensor, mask: Tensor) {
        let (y, mean, variance) = try batchNormTraining(x, weight: weight, bias: bias, epsilon: epsilon)
        let out = try relu(y, cap: nil)
        return (out, mean, variance, out)
    }

    public func batchNormReLUBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor, mask: Tensor,
                                      epsilon: Float) throws -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let g = try reluBackward(gradOut, output: mask, cap: nil)
        return try batchNormBackward(g, x: x, weight: weight, mean: mean, variance: variance, epsilon: epsilon)
    }
}

extension Graph {
    /// Batch-norm nodes whose value only a ReLU reads (ResNet's `bn1` → `relu`), mapped to that ReLU: a training
    /// pass may run each pair as one fused op. A batch-norm that is a graph output, or read by anything else, is left out.
    public func batchNormReLUPairs() -> [Int: Int] {
        var readers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() { for input in node.inputs { readers[input.index].append(i) } }
        let outputs = Set(self.outputs.map(\.index))
        var pairs: [Int: Int] = [:]
        for (i, node) in nodes.enumerated() {
            guard case .batchNorm2d = node.op, !outputs.contains(i), readers[i].count == 1, let r = readers[i].first,
                  case .relu = nodes[r].op, nodes[r].inputs.count == 1 else { continue }
            pairs[i] = r
        }
        return pairs
    }
}
