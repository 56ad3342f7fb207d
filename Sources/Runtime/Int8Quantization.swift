import CPUBackend
import GraphCore
import Optimize

/// INT8 quantization as a rewrite of the float graph, so that the model itself says how it is quantized
/// (and exports as ONNX `QuantizeLinear`/`DequantizeLinear` pairs, which ONNX Runtime runs in int8 too):
///
/// - batch-norm folded and dropout removed first (`prepareForInference`), as the INT8 plan does;
/// - a `fakeQuantize` node after every value an INT8 plan stores as integers — the input and each fused
///   step's result (conv + residual add + ReLU) that a convolution, max-pool or residual add reads — on
///   the grid of its calibrated range (u8 where calibration saw no negative value, s8 otherwise);
/// - each convolution's weight rounded onto its per-output-channel grid of `weights` (`Int8WeightRange`: the
///   scale from `max|w_k| / 127`, or `/ 63` for 7-bit weights, down that rounds it best; a plan with 7-bit weights,
///   on a CPU without VNNI, rounds 8-bit ones once more), and its bias onto
///   `scale(input) · scale(w_k)` (int32 in an ONNX file, as QDQ convolutions want it).
///
/// The float graph then computes what the INT8 plan computes, up to float32 summation order; training
/// it fine-tunes through the rounding with straight-through gradients.
///
/// 7-bit weights (`.reduced`) are for files that other runtimes run on CPUs without VNNI: ONNX Runtime's int8
/// kernels there add u8·s8 product pairs in saturating 16-bit arithmetic, as oneDNN's do, so 8-bit weights change
/// its results; 7-bit ones keep its integer arithmetic exact (`Int8WeightRange`). The exporter writes them as 7-bit
/// integers (`ONNXExporter`).
public enum Int8Quantization {
    public static func quantize(_ graph: Graph, _ parameters: ParameterStore, calibration: Int8Calibration,
                                inputName: String = "image", weights range: Int8WeightRange = .full) throws -> RewriteResult {
        let (g, p) = try InferenceRewrites.prepareForInference(graph, parameters)
        guard calibration.ranges.count == g.nodes.count else {
            throw EngineError.invalid("int8 quantization", "the calibration was measured on another graph (\(calibration.ranges.count) nodes, this one has \(g.nodes.count))")
        }
        guard !g.nodes.contains(where: { if case .fakeQuantize = $0.op { true } else { false } }) else {
            throw EngineError.invalid("int8 quantization", "the model is quantized already")
        }
        var stored = Set(PlanLowering.lower(g, fuse: true).flatMap(\.stored))
        if let input = g.inputID(inputName) { stored.insert(input.index) }
        let outputs = Set(g.outputs.map(\.index))
        var intReaders = [Bool](repeating: false, count: g.nodes.count)
        for node in g.nodes {
            switch node.op {
            case .conv2d, .maxPool2d, .add: for i in node.inputs { intReaders[i.index] = true }
            default: break
            }
        }

        var r = GraphRewriter(g, parameters: p)
        var grid: [Int: QuantizationAttributes] = [:]   // old node → grid of its quantized value
        var changes: [LayerChange] = []
        for (i, node) in g.nodes.enumerated() {
            r.keep(i)
            guard stored.contains(i), intReaders[i], !outputs.contains(i), let range = calibration.ranges[i] else { continue }
            let q = QuantizationAttributes(scale: range.scale, unsigned: range.isNonNegative)
            grid[i] = q
            let quantized = r.emit(Node(op: .fakeQuantize(q), inputs: [r.mapped(ValueID(i))], shape: node.shape,
                                        name: (node.name.isEmpty ? "\(node.op.kindName)_\(i)" : node.name) + ".quantize"))
            r.alias(i, to: quantized)
        }
        for (i, node) in g.nodes.enumerated() {
            guard case .conv2d = node.op, case .parameter(let weightName) = g[node.inputs[1]].op, let w = r.parameters[weightName] else { continue }
            let (rounded, scales, error) = roundPerChannel(w, range)
            try r.parameters.set(weightName, rounded)
            var detail = "weight → s8 (\(range.rawValue)), \(scales.count) channel scales"
            if node.inputs.count == 3, case .parameter(let biasName) = g[node.inputs[2]].op, let b = r.parameters[biasName],
               let inputScale = grid[node.inputs[0].index]?.scale {
                var bias = b.contiguous()
                bias.withUnsafeMutableBufferPointer { v in
                    for k in v.indices {
                        let step = inputScale * scales[k]
                        v[k] = (v[k] / step).rounded(.toNearestOrEven) * step
                    }
                }
                try r.parameters.set(biasName, bias)
                detail += "; bias → int32"
            }
            changes.append(LayerChange(layer: node.name.isEmpty ? "conv2d_\(i)" : node.name, detail: detail, weightError: error))
        }
        let (graphOut, paramsOut) = r.finish()
        return RewriteResult(graph: graphOut, parameters: paramsOut, changes: changes)
    }

    /// `w` rounded onto `k · s_o` per output channel `o` (the INT8 plan's rule for `range`: |k| ≤ `range.limit`, reached,
    /// so `max|w'_o| = limit · s_o`); the scales; `‖w − w'‖ / ‖w‖`.
    static func roundPerChannel(_ w: Tensor, _ range: Int8WeightRange) -> (Tensor, [Float], Double) {
        var out = w.contiguous()
        let (k, scales) = out.withUnsafeBufferPointer { range.quantize($0, channels: w.shape[0]) }
        let per = w.count / max(w.shape[0], 1)
        var diff = 0.0, norm = 0.0
        out.withUnsafeMutableBufferPointer { v in
            for j in v.indices {
                let q = k[j] * scales[j / per]
                diff += Double((q - v[j]) * (q - v[j])); norm += Double(v[j] * v[j])
                v[j] = q
            }
        }
        return (out, scales, norm > 0 ? (diff / norm).squareRoot() : 0)
    }

    /// Whether `graph` carries its own quantization (`fakeQuantize` nodes): such a model runs in INT8 by
    /// default, without calibration.
    public static func isQuantized(_ graph: Graph) -> Bool {
        graph.nodes.contains { if case .fakeQuantize = $0.op { true } else { false } }
    }
}
