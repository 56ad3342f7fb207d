import CPUBackend
import GraphCore

extension ConvolutionAlgorithm {
    /// oneDNN's direct convolution, except our depthwise-separable kernel (`SeparableConv`) for a 3×3 depthwise
    /// convolution (stride 1 or 2) and the 1×1 convolution that alone reads it, as one step (channels multiples of the
    /// CPU's vector), on AVX-512 and AVX2 CPUs.
    public static let separable = ConvolutionAlgorithm(named: "separable")
}

extension KernelFamily {
    /// Lowers planned separable pairs (`PlannedOp.separable`), not single convolutions; weighed before depthwise, whose
    /// kernel then takes the depthwise halves of pairs that lost.
    static let separable = KernelFamily(
        name: "separable", forcedBy: [.separable], rank: 3, weighedAt: { _ in true }, owns: { $0 is SeparableConv }, lowers: nil,
        counts: [.phrase("separable", jsonKey: "separable_convolutions", prefix: SeparableConv.kernelName)])
}

extension PlanBuilder {
    /// A depthwise convolution and the 1×1 convolution that alone reads it: one step of our own (`SeparableConv`)
    /// where the plan takes the family and the shapes fit, else two convolution steps.
    mutating func separable(_ dw: (node: Int, activation: Op?, result: Int), _ pw: (node: Int, residual: ValueID?, activation: Op?),
                            result: Int, step: Int) throws {
        let (d, p) = (graph.nodes[dw.node], graph.nodes[pw.node])
        // Our kernel applies ReLU or ReLU6; other activations (hard-swish, swish) stay oneDNN post-ops of two convolutions.
        let reluOnly = [dw.activation, pw.activation].allSatisfy { $0 == nil || $0 == .relu || $0 == .relu6 }
        guard reluOnly, takes(.separable), case .conv2d(let a) = d.op, case .conv2d(let b) = p.op,
              SeparableConv.applies(input: shapes[d.inputs[0].index], depthwise: a, dwWeight: shapes[d.inputs[1].index], pointwise: b,
                                    pwWeight: shapes[p.inputs[1].index]) else {
            try conv(dw.node, residual: nil, activation: dw.activation, result: dw.result, step: step)
            return try conv(pw.node, residual: pw.residual, activation: pw.activation, result: result, step: step)
        }
        let (xs, out) = (shapes[d.inputs[0].index], shapes[pw.node])
        let (dwName, dwWeight, dwBias) = try convParameters(dw.node)
        let (pwName, pwWeight, pwBias) = try convParameters(pw.node)
        let cache = sharedWeights
        var laidOut: [AlignedBuffer] = []
        // "layer1.1.conv1+conv2": the second name without the scope the two share.
        let scope = p.name.lastIndex(of: ".").map { p.name[...$0] } ?? ""
        let second = !scope.isEmpty && d.name.hasPrefix(scope) ? String(p.name.dropFirst(scope.count)) : p.name
        let name = [d.name, second].filter { !$0.isEmpty }.joined(separator: "+")
        try arenaStep(name: name.isEmpty ? "separable conv" : name, input: d.inputs[0].index, output: out, residual: pw.residual,
                      result: result, step: step) {
            try SeparableConv(batch: xs[0], height: xs[2], width: xs[3], channels: xs[1], outChannels: out[1], stride: a.stride.h,
                              depthwiseWeight: dwWeight.rawPointer.assumingMemoryBound(to: Float.self), depthwiseBias: dwBias,
                              depthwiseActivation: dw.activation, pointwiseWeight: pwWeight.rawPointer.assumingMemoryBound(to: Float.self),
                              bias: pwBias, activation: pw.activation) { which, make in
                // The depthwise part packs its weights as our depthwise kernel does: one buffer for both.
                let key = which == "depthwise" ? dwName + "|" + DepthwiseConv3x3.kernelName : pwName + "|" + SeparableConv.kernelName + "|" + which
                let buffer = try cache.buffer(key, nil, make: make)
                laidOut.append(buffer)
                return buffer
            }
        }
        weights.append(contentsOf: laidOut)
    }
}
