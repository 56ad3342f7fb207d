import CPUBackend
import GraphCore

extension ConvolutionAlgorithm {
    /// oneDNN's direct convolution, except the weight-streaming kernel (`StreamingConv`) wherever it applies:
    /// convolutions with at most 16 output pixels in all (late ResNet stages at batch 1), on AVX-512 and AVX2 CPUs.
    public static let streaming = ConvolutionAlgorithm(named: "streaming")
}

extension KernelFamily {
    /// Weighed first: it pays off only where weights come from memory, and would otherwise hide the others' gains.
    static let streaming = KernelFamily(
        name: "streaming", forcedBy: [.streaming], rank: 0, weighedAt: { _ in true }, owns: { $0 is StreamingConv },
        lowers: { b, c in
            guard c.activation == nil || c.activation == .relu, b.streams(c.input, c.weight, c.output, c.attributes) else { return false }
            try b.streamingConv(c.node, residual: c.residual, relu: c.activation == .relu, result: c.result, step: c.step)
            return true
        },
        counts: [.phrase("streaming", jsonKey: "streaming_convolutions", prefix: StreamingConv.kernelName)])
}

extension PlanBuilder {
    /// Whether this convolution runs on the weight-streaming kernel.
    func streams(_ xs: [Int], _ ws: [Int], _ out: [Int], _ a: Conv2dAttributes) -> Bool {
        takes(.streaming) && StreamingConv.applies(input: xs, weight: ws, output: out, a)
    }

    /// A weight-streaming step: its padded input lives in the plan's scratchpad.
    mutating func streamingConv(_ n: Int, residual: ValueID?, relu: Bool, result: Int, step: Int) throws {
        guard case .conv2d(let a) = graph.nodes[n].op else { return }
        let cache = sharedWeights
        try arenaConv(n, residual: residual, result: result, step: step) { xs, ws, weightName, weight, bias, laidOut in
            try StreamingConv(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: ws[0],
                              kernel: Pair(ws[2], ws[3]), stride: a.stride, padding: a.padding, weight: weight, bias: bias, relu: relu) { packing, make in
                let b = try cache.buffer(weightName + "|\(StreamingConv.kernelName)|" + packing, nil, make: make)
                laidOut.append(b)
                return b
            }
        }
    }
}
