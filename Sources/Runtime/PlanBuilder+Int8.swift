import CDNNL
import CPUBackend
import GraphCore

/// INT8 plans: convolutions read u8/s8 activations and s8 weights (8-bit on VNNI's `vpdpbusd`, 7-bit where
/// u8·s8 pairs add in 16 bits: `Int8WeightRange`) and write u8/s8 again while the next reader is a
/// convolution or max-pool; every other op runs in float32 on dequantized values. Each stored int8 value
/// `q` of node `n` means `scale(n) · q`.
extension PlanBuilder {
    func dataType(_ md: const_dnnl_memory_desc_t) -> dnnl_data_type_t {
        var dt = dnnl_data_type_undef
        _ = withUnsafeMutablePointer(to: &dt) { dnnl_memory_desc_query(md, dnnl_query_data_type, $0) }
        return dt
    }

    static func isInteger(_ dt: dnnl_data_type_t) -> Bool { dt == dnnl_u8 || dt == dnnl_s8 }

    /// The calibrated range of `node`.
    func range(_ node: Int) throws -> Int8Calibration.Range {
        guard let r = calibration?.ranges[node] else {
            throw EngineError.invalid("runtime", calibration == nil
                ? "node \(node) ('\(graph.nodes[node].name)') has no fake_quantize grid and the INT8 plan no calibration"
                : "INT8 calibration has no range for node \(node) ('\(graph.nodes[node].name)')")
        }
        return r
    }

    /// The integer type `node` is stored in: its `fakeQuantize` reader's, else u8 where calibration saw
    /// no negative value and s8 otherwise.
    func integerType(_ node: Int) throws -> dnnl_data_type_t {
        if let q = gridOf[node] { return q.unsigned ? dnnl_u8 : dnnl_s8 }
        return try range(node).isNonNegative ? dnnl_u8 : dnnl_s8
    }

    /// The quantization step of `node` stored as `type`: its `fakeQuantize` reader's, else from calibration
    /// (u8 spans 0…255, s8 −127…127).
    func scale(of node: Int, as type: dnnl_data_type_t) throws -> Float {
        if let q = gridOf[node], (q.unsigned ? dnnl_u8 : dnnl_s8) == type { return q.scale }
        let s = try range(node).maxAbs / (type == dnnl_u8 ? 255 : 127)
        return s > 0 && s.isFinite ? s : 1
    }

    /// Whether `node`'s value should stay integer: some reader computes in int8 (a convolution, a max-pool,
    /// or an add that a convolution absorbs), and it is not the graph's output.
    func staysInteger(_ node: Int) -> Bool {
        guard isInt8, !graph.outputs.contains(where: { $0.index == node }) else { return false }
        if gridOf[node] != nil { return true }
        return graph.nodes.contains { reader in
            guard reader.inputs.contains(where: { $0.index == node }) else { return false }
            switch reader.op {
            case .conv2d, .maxPool2d, .add, .dropout: return true
            default: return false
            }
        }
    }

    /// A float32 vector owned by the plan (runtime scales, corrected biases), and its descriptor.
    mutating func planVector(_ values: [Float]) throws -> (Int, const_dnnl_memory_desc_t) {
        let b = AlignedBuffer(byteCount: values.count * 4)
        values.withUnsafeBytes { b.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        weights.append(b)
        return (weights.count - 1, keep(try MemoryDesc(dims: [values.count], tag: dnnl_a)))
    }

    /// Appends a reorder from (`srcMD`, `src`) to (`dstMD`, `dst`), quantizing or dequantizing on the way:
    /// an integer source is multiplied by `srcScale`, an integer destination divided by `dstScale`.
    mutating func convert(from srcMD: const_dnnl_memory_desc_t, _ src: ArgRef, srcScale: Float?,
                          to dstMD: const_dnnl_memory_desc_t, _ dst: ArgRef, dstScale: Float?, name: String,
                          kind: OpKind = .layoutConversion) throws {
        var scaled: [(arg: Int32, scale: Float)] = []
        if Self.isInteger(dataType(srcMD)), let s = srcScale { scaled.append((DNNLArg.src, s)) }
        if Self.isInteger(dataType(dstMD)), let s = dstScale { scaled.append((DNNLArg.dst, s)) }
        let p = try makePrimitive(name) {
            let attr = try scaled.isEmpty ? ctx.attributes : ctx.attributes(scales: scaled.map { ($0.arg, 0) })
            defer { if !scaled.isEmpty { dnnl_primitive_attr_destroy(attr) } }
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_reorder_primitive_desc_create(&pd, srcMD, ctx.engine, dstMD, ctx.engine, attr), "reorder \(name)")
            return pd!
        }
        var args: [(slot: Int32, md: const_dnnl_memory_desc_t, ref: ArgRef)] = [(DNNLArg.src, srcMD, src), (DNNLArg.dst, dstMD, dst)]
        for (arg, scale) in scaled {
            let (w, md) = try planVector([scale])
            args.append((DNNLArg.attrScales | arg, md, .weight(w)))
        }
        pending.append(PendingStep(primitive: p, args: args, kind: kind, name: name))
    }

    /// A `fakeQuantize` node. In an INT8 plan whose producer already wrote this grid (the usual case: a
    /// convolution's output type and scale come from its `fakeQuantize` reader), it is free; otherwise
    /// the value is rounded onto the grid by a reorder to int8 (saturating, round-half-even, as ONNX's
    /// `QuantizeLinear`), and back to float32 unless the readers compute in int8.
    mutating func fakeQuantize(_ n: Int, _ q: QuantizationAttributes, name: String) throws {
        let input = graph.nodes[n].inputs[0].index
        let v = values[input]!
        let type = q.unsigned ? dnnl_u8 : dnnl_s8
        if dataType(v.md) == type && valueScale[input] == q.scale {
            values[n] = v
            valueScale[n] = q.scale
            return
        }
        let shape = shapes[n]
        let layoutOf: Layout = shape.count == 4 ? .channelsLast : .rowMajor
        let intMD = keep(try MemoryDesc(shape: shape, layout: layoutOf, dataType: type))
        let intBuffer = newBuffer(intMD)
        try convert(from: v.md, .buffer(v.buffer), srcScale: valueScale[input], to: intMD, .buffer(intBuffer), dstScale: q.scale,
                    name: name, kind: .quantize)
        if staysInteger(n) {
            values[n] = (intBuffer, intMD)
            valueScale[n] = q.scale
            return
        }
        let floatMD = keep(try MemoryDesc(shape: shape, layout: layoutOf, dataType: act))
        let floatBuffer = newBuffer(floatMD)
        try convert(from: intMD, .buffer(intBuffer), srcScale: q.scale, to: floatMD, .buffer(floatBuffer), dstScale: nil,
                    name: name + " (dequantize)", kind: .quantize)
        values[n] = (floatBuffer, floatMD)
    }

    /// `node`'s value as float32 (dequantized into a new buffer when it is stored as integers).
    mutating func floatValue(_ node: Int, name: String) throws -> (buffer: Int, md: const_dnnl_memory_desc_t) {
        let v = values[node]!
        guard Self.isInteger(dataType(v.md)) else { return v }
        let shape = shapes[node]
        let md = keep(try MemoryDesc(shape: shape, layout: shape.count == 4 ? .channelsLast : .rowMajor))
        return (try value(node, as: md, name: name), md)
    }

    /// Attributes of an int8 convolution: runtime scales of source, weights (per output channel) and
    /// destination (when integer), then the residual sum (scaled, in its own integer type) and the activation.
    func int8ConvAttributes(groups: Int, integerOutput: Bool, sum: (scale: Float, type: dnnl_data_type_t)?,
                            activation: Op?) throws -> dnnl_primitive_attr_t {
        var scales: [(arg: Int32, mask: Int32)] = [(DNNLArg.src, 0), (DNNLArg.weights, groups > 1 ? 3 : 1)]
        if integerOutput { scales.append((DNNLArg.dst, 0)) }
        let attr = try ctx.attributes(scales: scales)
        var ops: dnnl_post_ops_t?
        try check(dnnl_post_ops_create(&ops), "post-ops")
        defer { dnnl_post_ops_destroy(ops) }
        if let sum { try check(dnnl_post_ops_append_sum(ops, sum.scale, 0, sum.type), "post-op sum") }
        if let activation, let e = FusedPostOp(activation: activation)?.eltwise {
            try check(dnnl_post_ops_append_eltwise(ops, e.alg, e.alpha, e.beta), "post-op \(activation.kindName)")
        }
        try check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        return attr
    }

    /// A convolution's weights as integers of the plan's range (`Int8WeightRange.quantize`) laid out as `md`, the
    /// per-output-channel scales the convolution multiplies its sums by, and each weight's rounding error `k·s − w`
    /// (for `correctedBias`).
    ///
    /// With a signed (s8) source oneDNN adds 128 to it (u8·s8 instructions) and, without VNNI, halves the weights as it
    /// lays them out (`scale_adjust` 0.5, undone on the output) so that 8-bit weights cannot saturate: it would round
    /// 7-bit weights again. So 7-bit weights of a signed source are handed over doubled: kernels that halve store `k`,
    /// the others (VNNI, AMX, the reference; |2k| ≤ 126 fits) store `2k` and multiply by `s/2`. Both sum the same
    /// integers times the same power of two, so their outputs are bit for bit those of `k` and `s`.
    /// A convolution's weight parameter (its name), as integers of the plan's range (`Int8WeightRange.quantize`), with
    /// the per-output-channel scales and each weight's rounding error `k·s − w` (for `correctedBias`).
    func integerWeights(_ id: ValueID) throws -> (name: String, integers: [Float], scales: [Float], error: [Float]) {
        guard case .parameter(let name) = graph[id].op, let t = parameters[name] else {
            throw EngineError.unsupported("runtime", "weights must be parameters (node \(graph[id].name))")
        }
        let w = t.contiguous()
        let (integers, scales) = sharedWeights.quantized(name) {
            w.withUnsafeBufferPointer { int8Weights.quantize($0, channels: t.shape[0]) }
        }
        let per = t.count / t.shape[0]
        let error = w.withUnsafeBufferPointer { v in v.indices.map { integers[$0] * scales[$0 / per] - v[$0] } }
        return (name, integers, scales, error)
    }

    mutating func quantizedWeight(_ id: ValueID, plain: MemoryDesc, as md: const_dnnl_memory_desc_t,
                                  signedSource: Bool) throws -> (buffer: Int, scales: [Float], error: [Float]) {
        let (name, rounded, roundedScales, error) = try integerWeights(id)
        var (integers, scales) = (rounded, roundedScales)
        if signedSource && int8Weights == .reduced {
            for i in integers.indices { integers[i] *= 2 }
            for i in scales.indices { scales[i] /= 2 }
        }
        // The range and the doubling are a function of the plan and the descriptor, so the name and the s8 layout
        // identify the buffer.
        weights.append(try sharedWeights.buffer(name, md) {
            // Already integers: the reorder only converts and lays out (and halves, where oneDNN does).
            try integers.withUnsafeMutableBytes { b in
                try ctx.quantize(b.baseAddress!, from: plain.handle, to: md, scales: [1], mask: 0)
            }
        })
        return (weights.count - 1, scales, error)
    }
}

extension PlanBuilder {
    /// An int8 convolution step: integer source (quantized here when its producer wrote float32), s8
    /// weights with one scale per output channel, float32 bias, and an integer output when the next reader
    /// computes in int8 (float32 otherwise). A fused residual is summed from its own integers where it can
    /// share the output buffer (`sum` post-op with the residual's scale and type).
    mutating func int8Conv(_ n: Int, residual: ValueID?, activation: Op?, result: Int, step: Int) throws {
        let node = graph.nodes[n]
        guard case .conv2d(let a) = node.op else { return }
        let input = node.inputs[0].index
        let (xs, ws, out) = (shapes[input], shapes[node.inputs[1].index], shapes[n])
        // A calibrated plan corrects the bias (`correctedBias`), so it has one even where the model has none.
        let hasBias = node.inputs.count == 3 || calibration?.channelMeans[input] != nil
        let name = node.name.isEmpty ? "conv2d" : node.name

        let stored = values[input]!
        let srcType = Self.isInteger(dataType(stored.md)) ? dataType(stored.md) : try integerType(input)
        let srcScale = try valueScale[input] ?? scale(of: input, as: srcType)
        let srcMD = keep(try MemoryDesc(shape: xs, layout: .channelsLast, dataType: srcType))
        let x = try value(input, as: srcMD, name: name, scale: srcScale)

        let integerOutput = staysInteger(result)
        let dstType = integerOutput ? try integerType(result) : dnnl_f32
        let dstScale: Float? = integerOutput ? try scale(of: result, as: dstType) : nil
        let dstMD = keep(try MemoryDesc(shape: out, layout: .channelsLast, dataType: dstType))
        if Self.ownsInt8Conv(xs, ws, a, residual: residual, activation: activation) {
            return try int8OwnConv(n, input: x, source: srcType, sourceScale: srcScale, output: dstMD, outputScale: dstScale,
                                     activation: activation, result: result)
        }

        var output: Int
        var preCopy: (from: Int, to: Int, bytes: Int)?
        var sum: (scale: Float, type: dnnl_data_type_t)?
        if let r = residual {
            let rv = values[r.index]!
            let residualType = dataType(rv.md)
            let bytes = dnnl_memory_desc_get_size(dstMD)
            if (Self.isInteger(residualType) && integerOutput) || dnnl_memory_desc_equal(rv.md, dstMD) != 0 {
                // Same element size and layout: accumulate where the residual lies (in place when it dies here,
                // unless it is the input too: `x + conv(x)` still reads what it would overwrite; the fp32 paths'
                // rule, kept here though no INT8 plan I built showed the error).
                sum = (valueScale[r.index] ?? 1, Self.isInteger(residualType) ? residualType : dnnl_data_type_undef)
                if lastReader[r.index] == step && rv.buffer != x {
                    output = rv.buffer
                } else {
                    output = newBuffer(dstMD)
                    preCopy = (rv.buffer, output, bytes)
                }
            } else {
                // Converted into the output's type (and scale) in a fresh buffer.
                output = try value(r.index, as: dstMD, name: name + " residual", scale: dstScale)
                sum = (dstScale ?? 1, dnnl_data_type_undef)
            }
        } else {
            output = newBuffer(dstMD)
        }

        let biasMD = keep(try MemoryDesc(dims: [ws[0]], tag: dnnl_a))
        let attr = try int8ConvAttributes(groups: a.groups, integerOutput: integerOutput, sum: sum, activation: activation)
        defer { dnnl_primitive_attr_destroy(attr) }
        let p = try convolutionPrimitive(n, src: srcMD, weightType: dnnl_s8, bias: hasBias ? biasMD : nil, dst: dstMD, attributes: attr)
        let wMD = p.md(dnnl_query_weights_md)
        let plainW = try MemoryDesc(shape: ws, layout: .rowMajor, weightsGroups: a.groups)
        descriptors.append(plainW)
        let (w, wScales, wError) = try quantizedWeight(node.inputs[1], plain: plainW, as: wMD, signedSource: srcType == dnnl_s8)
        var args: [(slot: Int32, md: const_dnnl_memory_desc_t, ref: ArgRef)] = [
            (DNNLArg.src, srcMD, .buffer(x)), (DNNLArg.weights, wMD, .weight(w)), (DNNLArg.dst, dstMD, .buffer(output))]
        if let corrected = try correctedBias(n, weightError: wError) {
            args.append((DNNLArg.bias, biasMD, .weight(try planVector(corrected).0)))
        } else if hasBias {
            args.append((DNNLArg.bias, biasMD, .weight(try vector(node.inputs[2]))))
        }
        for (arg, scales) in [(DNNLArg.src, [srcScale]), (DNNLArg.weights, wScales)] + (dstScale.map { [(DNNLArg.dst, [$0])] } ?? []) {
            let (buffer, md) = try planVector(scales)
            args.append((DNNLArg.attrScales | arg, md, .weight(buffer)))
        }
        var s = PendingStep(primitive: p, args: args, kind: .convolution, name: name)
        s.preCopy = preCopy
        pending.append(s)
        values[result] = (output, dstMD)
        valueScale[result] = dstScale
    }
}
