import CPUBackend
import GraphCore

extension ConvolutionAlgorithm {
    /// oneDNN's direct convolution, except our depthwise kernel (`DepthwiseConv3x3`) for 3×3 depthwise convolutions of
    /// stride 1 or 2 (channels a multiple of the CPU's vector), on AVX-512 and AVX2 CPUs.
    public static let depthwise = ConvolutionAlgorithm(named: "depthwise")
}

extension KernelFamily {
    /// Weighed last: it takes the depthwise convolutions of separable steps that lost.
    static let depthwise = KernelFamily(
        name: "depthwise", forcedBy: [.depthwise], rank: 4, weighedAt: { _ in true }, owns: { $0 is DepthwiseConv3x3 },
        lowers: { b, c in
            guard c.activation == nil || c.activation == .relu || c.activation == .relu6, b.depthwise(c.input, c.weight, c.attributes) else {
                return false
            }
            try b.depthwiseConv(c.node, residual: c.residual, activation: c.activation, result: c.result, step: c.step)
            return true
        },
        counts: [.phrase("depthwise", jsonKey: "depthwise_convolutions", prefix: DepthwiseConv3x3.kernelName)])
}

extension PlanBuilder {
    /// Whether this convolution runs on our depthwise kernel.
    func depthwise(_ xs: [Int], _ ws: [Int], _ a: Conv2dAttributes) -> Bool {
        takes(.depthwise) && DepthwiseConv3x3.applies(input: xs, weight: ws, a)
    }

    /// A depthwise step: its zero rows live in the plan's scratchpad.
    mutating func depthwiseConv(_ n: Int, residual: ValueID?, activation: Op?, result: Int, step: Int) throws {
        guard case .conv2d(let a) = graph.nodes[n].op else { return }
        let cache = sharedWeights
        try arenaConv(n, residual: residual, result: result, step: step) { xs, _, weightName, weight, bias, laidOut in
            try DepthwiseConv3x3(batch: xs[0], height: xs[2], width: xs[3], channels: xs[1], stride: a.stride.h, weight: weight, bias: bias,
                                 relu: activation != nil, relu6: activation == .relu6) { make in
                let b = try cache.buffer(weightName + "|" + DepthwiseConv3x3.kernelName, nil, make: make)
                laidOut.append(b)
                return b
            }
        }
    }
}
