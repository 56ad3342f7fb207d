import CPUBackend
import GraphCore

extension ConvolutionAlgorithm {
    /// oneDNN's direct convolution, except our resize + convolution kernel (`ResizeConv`) for a bilinear resize and the
    /// ungrouped convolution that alone reads it (the spec baseline's upsampling and first convolution), as one step on
    /// the source image, on AVX-512 and AVX2 CPUs.
    public static let resizeConv = ConvolutionAlgorithm(named: "resize-conv")
}

extension KernelFamily {
    /// Lowers planned resize + convolution pairs (`PlannedOp.resizeConv`), not single convolutions.
    static let resizeConv = KernelFamily(
        name: "resize-conv", forcedBy: [.resizeConv], rank: 5, weighedAt: { _ in true }, owns: { $0 is ResizeConv }, lowers: nil,
        counts: [.phrase("resize-conv", jsonKey: "resize_convolutions", prefix: ResizeConv.kernelName)])
}

extension PlanBuilder {
    /// A bilinear resize and the convolution that alone reads it: one step of our own (`ResizeConv`) where the plan takes
    /// the family and the shapes fit, else a resize step and a convolution step.
    mutating func resizeConv(_ resize: Int, _ c: (node: Int, residual: ValueID?, activation: Op?), result: Int, step: Int) throws {
        let (r, node) = (graph.nodes[resize], graph.nodes[c.node])
        guard c.activation == nil || c.activation == .relu, takes(.resizeConv), case .conv2d(let a) = node.op,
              case .resizeBilinear(let h, let w) = r.op, case let xs = shapes[r.inputs[0].index],
              ResizeConv.applies(input: xs, resized: Pair(h, w), weight: shapes[node.inputs[1].index], a) else {
            try single(resize)
            return try conv(c.node, residual: c.residual, activation: c.activation, result: result, step: step)
        }
        let (wName, weight, bias) = try convParameters(c.node)
        let ws = shapes[node.inputs[1].index]
        let cache = sharedWeights
        var laidOut: [AlignedBuffer] = []
        let name = [r.name, node.name].filter { !$0.isEmpty }.joined(separator: "+")
        try arenaStep(name: name.isEmpty ? "resize conv" : name, input: r.inputs[0].index, output: shapes[c.node], residual: c.residual,
                      result: result, step: step) {
            try ResizeConv(batch: xs[0], height: xs[2], width: xs[3], channels: xs[1], resized: Pair(h, w), outChannels: ws[0],
                           kernel: Pair(ws[2], ws[3]), stride: a.stride, padding: a.padding,
                           weight: weight.rawPointer.assumingMemoryBound(to: Float.self), bias: bias, relu: c.activation == .relu) { key, make in
                let buffer = try cache.buffer(wName + "|" + ResizeConv.kernelName + "|" + key, nil, make: make)
                laidOut.append(buffer)
                return buffer
            }
        }
        weights.append(contentsOf: laidOut)
    }
}
