import CPUBackend
import GraphCore

extension ConvolutionAlgorithm {
    /// oneDNN's direct convolution, except the weight-streaming kernel (`StreamingConv`) wherever it applies:
    /// convolutions with at most 16 output pixels in all (late ResNet stages at batch 1), on AVX-512 and AVX2 CPUs.
    public static let streaming = ConvolutionAlgorithm(named: "streaming")
}

extension KernelFamily {
    /// The weight-streaming kernel on at most `StreamingConv.narrowPixels` output pixels: weights read once, a few FMAs
    /// each, so bound by memory (ResNet-18's layer4 at 64 px). Weighed first: it pays off only where weights come from
    /// memory, and would otherwise hide the others' gains.
    static let streaming = streamingFamily(name: "streaming", rank: 0, counted: true) { $0 <= StreamingConv.narrowPixels }

    /// The same kernel on more than `StreamingConv.narrowPixels` output pixels (up to 16 with AVX-512: layer3's 4×4 maps;
    /// up to 256 with AVX2: layers 1–3 at batch 1), weighed on its own: there the kernel computes rather than streams, and
    /// oneDNN's direct convolution is as fast or faster on some shapes, CPUs and ISAs, so `auto` may keep the kernel on the
    /// narrow maps and drop it here (`bench/README.md`, "Batch-1 latency on AVX2" and "Kernel decisions"). Ranked after
    /// Winograd: on those maps Winograd does a quarter of the products where its race wins, and this kernel takes the
    /// convolutions Winograd cannot (stride 2) or lost (`bench/README.md`, "Winograd's products at batch 1").
    /// `--convolutions streaming` forces both; plans count both as `streaming`.
    static let streamingWide = streamingFamily(name: "streaming-wide", rank: 2, counted: false) { $0 > StreamingConv.narrowPixels }

    /// `counted`: the family whose count line (`streaming`, counting both families' steps by the kernel's name) plans print.
    private static func streamingFamily(name: String, rank: Int, counted: Bool, pixels: @escaping @Sendable (Int) -> Bool) -> KernelFamily {
        KernelFamily(
            name: name, forcedBy: [.streaming], rank: rank, weighedAt: { _ in true },
            owns: { ($0 as? StreamingConv).map { pixels($0.outputPixels) } ?? false },
            lowers: { b, c in
                guard c.activation == nil || c.activation == .relu, pixels(c.output[0] * c.output[2] * c.output[3]),
                      b.streams(c.input, c.weight, c.output, c.attributes, name: name) else { return false }
                try b.streamingConv(c.node, residual: c.residual, relu: c.activation == .relu, result: c.result, step: c.step)
                return true
            },
            counts: counted ? [.phrase("streaming", jsonKey: "streaming_convolutions", prefix: StreamingConv.kernelName)] : [])
    }
}

extension PlanBuilder {
    /// Whether this convolution runs on the weight-streaming kernel (`name`: the family by its pixel count).
    func streams(_ xs: [Int], _ ws: [Int], _ out: [Int], _ a: Conv2dAttributes, name: String) -> Bool {
        takes(name == KernelFamily.streaming.name ? .streaming : .streamingWide) && StreamingConv.applies(input: xs, weight: ws, output: out, a)
    }

    /// A weight-streaming step: its padded input lives in the plan's scratchpad; an FP16 plan's weights are stored as half.
    mutating func streamingConv(_ n: Int, residual: ValueID?, relu: Bool, result: Int, step: Int) throws {
        guard case .conv2d(let a) = graph.nodes[n].op else { return }
        let (cache, half) = (sharedWeights, halfWeights)
        try arenaConv(n, residual: residual, result: result, step: step) { xs, ws, weightName, weight, bias, laidOut in
            try StreamingConv(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: ws[0],
                              kernel: Pair(ws[2], ws[3]), stride: a.stride, padding: a.padding, weight: weight, bias: bias, relu: relu,
                              halfWeights: half) { packing, make in
                let b = try cache.buffer(weightName + "|\(StreamingConv.kernelName)|" + packing, nil, make: make)
                laidOut.append(b)
                return b
            }
        }
    }
}
