import GraphCore

/// Bias correction of INT8 convolutions (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and
/// Bias Correction", §4.2; OpenVINO's FastBiasCorrection). Rounding the weights moves each output channel's mean by
/// `E[Σ (k·s − w) · x]`; calibration knows the inputs' channel means, so the bias can take that shift back out. It
/// matters most with 7-bit weights (`Int8WeightRange.reduced`), whose rounding errors are twice 8-bit's.
///
/// Each input channel is taken to have its mean at every pixel, and zero padding zero: a tap `(i, j)` of the kernel
/// sees the input at the fraction `v_h(i) · v_w(j)` of output positions where it falls inside the input. So the
/// shift of output channel o (group g, `C/groups` input channels per group) is
///
///     Σ_c Σ_i Σ_j (k·s − w)[o, c, i, j] · μ[g · C/groups + c] · v_h(i) · v_w(j)
///
/// in double, and the corrected bias is the float bias minus it, rounded to float32.
enum BiasCorrection {
    /// The shift of each output channel. `error`: `[K, C/groups, kH, kW]` row-major; `means`: per input channel;
    /// `input` and `output`: `[H, W]` of the convolution's input and output.
    static func shift(error: [Float], weightShape ws: [Int], means: [Float], groups: Int, input: [Int], output: [Int],
                      _ a: Conv2dAttributes) -> [Double] {
        let (k, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
        let vh = inside(kernel: kh, input: input[0], output: output[0], stride: a.stride.h, padding: a.padding.h, dilation: a.dilation.h)
        let vw = inside(kernel: kw, input: input[1], output: output[1], stride: a.stride.w, padding: a.padding.w, dilation: a.dilation.w)
        let perGroup = k / groups
        return (0..<k).map { o in
            var shift = 0.0
            for c in 0..<cg {
                let mean = Double(means[(o / perGroup) * cg + c])
                for i in 0..<kh {
                    for j in 0..<kw { shift += Double(error[((o * cg + c) * kh + i) * kw + j]) * mean * vh[i] * vw[j] }
                }
            }
            return shift
        }
    }

    /// For each tap of a kernel dimension, the fraction of output positions at which it reads inside the input.
    static func inside(kernel: Int, input: Int, output: Int, stride: Int, padding: Int, dilation: Int) -> [Double] {
        (0..<kernel).map { t in
            let hits = (0..<output).filter { o in (0..<input).contains(o * stride - padding + t * dilation) }.count
            return Double(hits) / Double(max(output, 1))
        }
    }
}

extension PlanBuilder {
    /// Convolution `n`'s bias, corrected for its weights' rounding `weightError` (`BiasCorrection`): the float bias
    /// (zeros where the model has none) minus the shift; nil without calibration means (a quantized model's
    /// convolutions keep their own bias: its rounding is part of the model).
    func correctedBias(_ n: Int, weightError: [Float]) throws -> [Float]? {
        let node = graph.nodes[n]
        guard case .conv2d(let a) = node.op, let means = calibration?.channelMeans[node.inputs[0].index] else { return nil }
        let (xs, ws, out) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index], shapes[n])
        var bias = [Float](repeating: 0, count: ws[0])
        if node.inputs.count == 3 {
            guard case .parameter(let name) = graph[node.inputs[2]].op, let b = parameters[name] else {
                throw EngineError.unsupported("runtime", "a convolution's bias must be a parameter (node \(node.name))")
            }
            bias = b.contiguous().scalars
        }
        let shift = BiasCorrection.shift(error: weightError, weightShape: ws, means: means, groups: a.groups,
                                         input: Array(xs[2...]), output: Array(out[2...]), a)
        return zip(bias, shift).map { Float(Double($0) - $1) }
    }
}
