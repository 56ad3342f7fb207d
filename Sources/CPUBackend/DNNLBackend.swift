import GraphCore
import CDNNL

/// The CPU backend on oneDNN 3.x: convolution, batch-norm, pooling, element-wise and resampling
/// primitives, cached by shape, with 4-D activations kept channels-last (NHWC) between ops.
///
/// Weights stay plain (`[K, C/g, kH, kW]`) in the parameter store and are reordered into each
/// primitive's preferred blocked layout per call. Where oneDNN rejects a configuration, the op falls
/// back to `ReferenceBackend` (correct, slow), so every graph the IR accepts still runs. A 3×3 stride-1 convolution's
/// forward pass and both gradients may run on Winograd instead, where its race finds that faster (`TrainingWinograd`).
public struct DNNLBackend: Backend {
    let ctx: DNNLContext
    let fallback = ReferenceBackend()

    public init() throws {
        guard let ctx = DNNLContext.shared else {
            throw EngineError.backend("onednn", "could not create a oneDNN CPU engine (is libdnnl.so.3 installed in /usr/local/lib?)")
        }
        self.ctx = ctx
    }

    public var name: String { "onednn" }

    /// 4-D activations in NHWC; everything else as it is.
    func channelsLast(_ t: Tensor) -> Tensor { t.rank == 4 ? t.converted(to: .channelsLast) : t }

    // MARK: convolution

    struct ConvDescs {
        let src, weightsAny, bias, dst: MemoryDesc
        let window: DNNLWindow
    }

    func convDescs(_ x: [Int], _ w: [Int], _ out: [Int], _ a: Conv2dAttributes, bias: Bool) throws -> ConvDescs {
        let wDims = a.groups > 1 ? [a.groups, w[0] / a.groups] + w.dropFirst() : w
        return ConvDescs(src: try MemoryDesc(shape: x, layout: .channelsLast),
                         weightsAny: try MemoryDesc(dims: wDims, tag: dnnl_format_tag_any),
                         bias: try MemoryDesc(dims: bias ? [w[0]] : [], tag: bias ? dnnl_a : dnnl_format_tag_undef),
                         dst: try MemoryDesc(shape: out, layout: .channelsLast),
                         window: DNNLWindow(convolution: x, w, out, a))
    }

    func convKey(_ x: [Int], _ w: [Int], _ a: Conv2dAttributes, bias: Bool) -> String {
        "\(x)|\(w)|\(bias)|\(a.stride)|\(a.padding)|\(a.dilation)|\(a.groups)"
    }

    func convForwardPD(_ d: ConvDescs, prop: dnnl_prop_kind_t, bias: Bool, postOps: [FusedPostOp] = []) throws -> dnnl_primitive_desc_t {
        let attributes = try postOps.isEmpty ? ctx.attributes : ctx.attributes(with: postOps)
        defer { if !postOps.isEmpty { dnnl_primitive_attr_destroy(attributes) } }
        return try d.window.convolutionForward(ctx.engine, prop, src: d.src.handle, weights: d.weightsAny.handle,
                                               bias: bias ? d.bias.handle : nil, dst: d.dst.handle, attributes: attributes, what: "conv2d")
    }

    /// The weight in the layout primitive `p` wants for `query` (reordered when that differs from plain). The reorder
    /// primitive is cached under `key` when one is given, so the key must determine both the weight's shape and `p`'s
    /// layout (a primitive made for another shape would read and write past the buffers); nil reorders uncached.
    func weights(_ w: Tensor, groups: Int, for p: Primitive, _ query: dnnl_query_t, key: String?) throws -> (UnsafeMutableRawPointer, AlignedBuffer?) {
        let w = w.contiguous()   // weights are described to oneDNN as plain [K, C/g, kH, kW]
        let plain = try MemoryDesc(shape: w.shape, layout: .rowMajor, weightsGroups: groups)
        let wanted = p.md(query)
        if plain.equals(wanted) { return (w.rawPointer, w.buffer) }
        let buffer = try ctx.reorder(w.rawPointer, from: plain.handle, to: wanted, key: key)
        return (buffer.pointer, buffer)
    }

    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ a: Conv2dAttributes) throws -> Tensor {
        let direct = { try self.conv2d(x, weight: weight, bias: bias, a, fused: []) }
        guard TrainingWinograd.applies(input: x.shape, weight: weight.shape, a),
              let y = try TrainingWinograd.convolve(x, weight: weight, bias: bias, .forward, ctx: ctx, direct: direct) else { return try direct() }
        return y
    }

    /// Convolution with oneDNN post-ops fused into the same kernel: `.add(r)` accumulates the
    /// residual `r` (same shape as the output) into the result, activations apply after it, in order.
    /// Used by the runtime for conv + bias + residual add + ReLU in one pass over the output.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ a: Conv2dAttributes, fused: [FusedPostOp]) throws -> Tensor {
        let outShape = try ShapeInference.infer(.conv2d(a), [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []), name: "")
        let key = convKey(x.shape, weight.shape, a, bias: bias != nil) + "|\(fused.map(\.key))"
        let d = try convDescs(x.shape, weight.shape, outShape, a, bias: bias != nil)
        // forward_inference for the forward pass even in training: same arithmetic, and oneDNN picks its
        // faster brgconv kernels for it (`forward_training` chose the older jit kernels on AVX2); the training
        // descriptor serves only as backward hint.
        guard let p = try? ctx.primitive("conv_fwd|" + key, {
            try convForwardPD(d, prop: dnnl_forward_inference, bias: bias != nil, postOps: fused)
        }) else {
            var y = try fallback.conv2d(x, weight: weight, bias: bias, a)
            for op in fused { y = try op.applyReference(y, fallback) }
            return y
        }
        let src = channelsLast(x)
        let (wPtr, wBuf) = try weights(weight, groups: a.groups, for: p, dnnl_query_weights_md, key: "conv_fwd_w|" + key)
        var out = Tensor(uninitialized: outShape, layout: .channelsLast)
        for case .add(let residual) in fused {
            let r = residual.converted(to: .channelsLast)
            out.withUnsafeMutableBufferPointer { dst in
                r.withUnsafeBufferPointer { src in dst.baseAddress!.update(from: src.baseAddress!, count: src.count) }
            }
        }
        var args: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.weights, p.md(dnnl_query_weights_md), wPtr),
                    (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)]
        if let bias { args.append((DNNLArg.bias, d.bias.handle, bias.rawPointer)) }
        try ctx.execute(p, args, op: "conv2d")
        withExtendedLifetime((src, wBuf, weight, bias)) {}
        return out
    }

    public func conv2dBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool, _ a: Conv2dAttributes,
                               needInput: Bool) throws -> (input: Tensor?, weight: Tensor, bias: Tensor?) {
        let key = convKey(x.shape, weight.shape, a, bias: hasBias)
        let d = try convDescs(x.shape, weight.shape, gradOut.shape, a, bias: hasBias)
        guard let hint = try? ctx.primitive("conv_fwd_train|" + key, { try convForwardPD(d, prop: dnnl_forward_training, bias: hasBias) })
        else { return try fallback.conv2dBackward(gradOut, x: x, weight: weight, hasBias: hasBias, a, needInput: needInput) }
        let (src, gOut) = (channelsLast(x), channelsLast(gradOut))
        let dx = needInput ? try inputGradient(gOut, weight: weight, inputShape: x.shape, d, a, key: key, hint: hint) : nil
        let direct = { try self.weightGradient(gOut, x: src, weight: weight, hasBias: hasBias, d, a, key: key, hint: hint) }
        let winograd = TrainingWinograd.applies(input: x.shape, weight: weight.shape, a)
            ? try TrainingWinograd.weightGradient(gOut, x: src, hasBias: hasBias, direct: direct) : nil
        let (dw, db) = try winograd ?? direct()
        return (dx, dw, db)
    }

    /// A convolution's weight (and bias) gradient off the Winograd path: GEMMs over the batch where `ConvWeightGradient`
    /// takes the shape, else oneDNN's backward-weights. `src` and `gOut` channels last.
    func weightGradient(_ gOut: Tensor, x src: Tensor, weight: Tensor, hasBias: Bool, _ d: ConvDescs, _ a: Conv2dAttributes,
                        key: String, hint: Primitive) throws -> (Tensor, Tensor?) {
        if ConvWeightGradient.applies(x: src.shape, weight: weight.shape, a) {
            return try ConvWeightGradient.compute(gradOut: gOut, x: src, weight: weight.shape, a, hasBias: hasBias)
        }
        let p = try ctx.primitive("conv_bwd_weights|" + key) {
            var pd: dnnl_primitive_desc_t?
            try d.window.strides.withPointer { s in try d.window.dilates.withPointer { dl in try d.window.padL.withPointer { pl in try d.window.padR.withPointer { pr in
                try check(dnnl_convolution_backward_weights_primitive_desc_create(&pd, ctx.engine, dnnl_convolution_direct,
                          d.src.handle, d.weightsAny.handle, hasBias ? d.bias.handle : nil, d.dst.handle, s, dl, pl, pr,
                          hint.pd, ctx.attributes), "conv2d backward weights")
            } } } }
            return pd!
        }
        let diffWeights = AlignedBuffer(byteCount: dnnl_memory_desc_get_size(p.md(dnnl_query_diff_weights_md)))
        let db = hasBias ? Tensor(uninitialized: [weight.shape[0]]) : nil
        var args: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer),
                    (DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), gOut.rawPointer),
                    (DNNLArg.diffWeights, p.md(dnnl_query_diff_weights_md), diffWeights.pointer)]
        if let db { args.append((DNNLArg.diffBias, d.bias.handle, db.rawPointer)) }
        try ctx.execute(p, args, op: "conv2d backward weights")
        let plain = try MemoryDesc(shape: weight.shape, layout: .rowMajor, weightsGroups: a.groups)
        let dw: Tensor
        if plain.equals(p.md(dnnl_query_diff_weights_md)) {
            dw = Tensor.wrapping(diffWeights, shape: weight.shape, layout: .rowMajor)
        } else {
            let buffer = try ctx.reorder(diffWeights.pointer, from: p.md(dnnl_query_diff_weights_md), to: plain.handle,
                                         key: "conv_dw|" + key)
            dw = Tensor.wrapping(buffer, shape: weight.shape, layout: .rowMajor)
        }
        withExtendedLifetime((src, gOut)) {}
        return (dw, db)
    }

    /// A convolution's input gradient: on Winograd where `TrainingWinograd` takes the shape, else oneDNN's backward-data.
    func inputGradient(_ gOut: Tensor, weight: Tensor, inputShape: [Int], _ d: ConvDescs, _ a: Conv2dAttributes, key: String,
                       hint: Primitive) throws -> Tensor {
        let direct = { () throws -> Tensor in
            let p = try ctx.primitive("conv_bwd_data|" + key) {
                var pd: dnnl_primitive_desc_t?
                try d.window.strides.withPointer { s in try d.window.dilates.withPointer { dl in try d.window.padL.withPointer { pl in try d.window.padR.withPointer { pr in
                    try check(dnnl_convolution_backward_data_primitive_desc_create(&pd, ctx.engine, dnnl_convolution_direct,
                              d.src.handle, d.weightsAny.handle, d.dst.handle, s, dl, pl, pr, hint.pd, ctx.attributes), "conv2d backward data")
                } } } }
                return pd!
            }
            let (wPtr, wBuf) = try weights(weight, groups: a.groups, for: p, dnnl_query_weights_md, key: "conv_bwd_w|" + key)
            let out = Tensor(uninitialized: inputShape, layout: .channelsLast)
            try ctx.execute(p, [(DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), gOut.rawPointer),
                                (DNNLArg.weights, p.md(dnnl_query_weights_md), wPtr),
                                (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), out.rawPointer)], op: "conv2d backward data")
            withExtendedLifetime(wBuf) {}
            return out
        }
        guard TrainingWinograd.applies(input: inputShape, weight: weight.shape, a),
              let dx = try TrainingWinograd.convolve(gOut, weight: weight, bias: nil, .inputGradient, ctx: ctx, direct: direct) else { return try direct() }
        return dx
    }

    // MARK: batch norm

    public func batchNormTraining(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) throws
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let p = try batchNormPD(x.shape, training: true, epsilon: epsilon)
        let src = channelsLast(x)
        let out = Tensor(uninitialized: x.shape, layout: .channelsLast)
        let c = x.shape[1]
        let (mean, variance) = (Tensor(uninitialized: [c]), Tensor(uninitialized: [c]))
        let vec = try MemoryDesc(shape: [c], layout: .rowMajor)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer),
                            (DNNLArg.scale, vec.handle, weight.rawPointer), (DNNLArg.shift, vec.handle, bias.rawPointer),
                            (DNNLArg.mean, vec.handle, mean.rawPointer), (DNNLArg.variance, vec.handle, variance.rawPointer)],
                        op: "batch_norm2d")
        withExtendedLifetime((src, weight, bias)) {}
        return (out, mean, variance)
    }

    func batchNormPD(_ x: [Int], training: Bool, epsilon: Float) throws -> Primitive {
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | (training ? 0 : dnnl_use_global_stats.rawValue)
        return try ctx.primitive("bn_fwd|\(x)|\(training)|\(epsilon)") {
            let md = try MemoryDesc(shape: x, layout: .channelsLast)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_batch_normalization_forward_primitive_desc_create(&pd, ctx.engine,
                      training ? dnnl_forward_training : dnnl_forward_inference, md.handle, md.handle, epsilon, flags,
                      ctx.attributes), "batch_norm2d")
            return pd!
        }
    }

    public func batchNormInference(_ x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                                   epsilon: Float) throws -> Tensor {
        let p = try batchNormPD(x.shape, training: false, epsilon: epsilon)
        let src = channelsLast(x)
        let out = Tensor(uninitialized: x.shape, layout: .channelsLast)
        let vec = try MemoryDesc(shape: [x.shape[1]], layout: .rowMajor)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer),
                            (DNNLArg.scale, vec.handle, weight.rawPointer), (DNNLArg.shift, vec.handle, bias.rawPointer),
                            (DNNLArg.mean, vec.handle, mean.rawPointer), (DNNLArg.variance, vec.handle, variance.rawPointer)],
                        op: "batch_norm2d")
        withExtendedLifetime((src, weight, bias, mean, variance)) {}
        return out
    }

    public func batchNormBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor,
                                  epsilon: Float) throws -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let hint = try batchNormPD(x.shape, training: true, epsilon: epsilon)
        return try batchNormBackward(gradOut, x: x, weight: weight, mean: mean, variance: variance, epsilon: epsilon,
                                     forward: hint, flags: dnnl_use_scale.rawValue | dnnl_use_shift.rawValue, workspace: nil)
    }

    /// The backward primitive of the forward `forward` (its `flags`), reading the forward's `workspace` where it kept one
    /// (the fused ReLU's mask).
    func batchNormBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor, epsilon: Float,
                           forward: Primitive, flags: UInt32, workspace: Tensor?) throws -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let op = workspace == nil ? "batch_norm2d backward" : "batch_norm2d + relu backward"
        let p = try ctx.primitive("bn_bwd|\(flags)|\(x.shape)|\(epsilon)") {
            let md = try MemoryDesc(shape: x.shape, layout: .channelsLast)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_batch_normalization_backward_primitive_desc_create(&pd, ctx.engine, dnnl_backward, md.handle, md.handle,
                      md.handle, epsilon, flags, forward.pd, ctx.attributes), op)
            return pd!
        }
        let (src, gOut) = (channelsLast(x), channelsLast(gradOut))
        let c = x.shape[1]
        let dx = Tensor(uninitialized: x.shape, layout: .channelsLast)
        let (dScale, dShift) = (Tensor(uninitialized: [c]), Tensor(uninitialized: [c]))
        let vec = try MemoryDesc(shape: [c], layout: .rowMajor)
        var args: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
                (DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), gOut.rawPointer),
                (DNNLArg.mean, vec.handle, mean.rawPointer), (DNNLArg.variance, vec.handle, variance.rawPointer),
                (DNNLArg.scale, vec.handle, weight.rawPointer),
                (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), dx.rawPointer),
                (DNNLArg.diffScale, vec.handle, dScale.rawPointer), (DNNLArg.diffShift, vec.handle, dShift.rawPointer)]
        if let workspace {
            let needed = dnnl_memory_desc_get_size(p.md(dnnl_query_workspace_md))
            guard workspace.byteCount >= needed else {
                throw EngineError.invalid(op, "the mask holds \(workspace.byteCount) bytes, the kernel reads \(needed)")
            }
            args.append((DNNLArg.workspace, p.md(dnnl_query_workspace_md), workspace.rawPointer))
        }
        try ctx.execute(p, args, op: op)
        withExtendedLifetime((src, gOut, weight, mean, variance, workspace)) {}
        return (dx, dScale, dShift)
    }

    // MARK: activations

    func eltwiseAlgorithm(cap: Float?) -> dnnl_alg_kind_t {
        cap == nil ? dnnl_eltwise_relu_use_dst_for_bwd : dnnl_eltwise_clip_v2_use_dst_for_bwd
    }

    func eltwiseForward(_ shape: [Int], _ layout: Layout, cap: Float?) throws -> Primitive {
        try ctx.primitive("eltwise_fwd|\(shape)|\(layout)|\(String(describing: cap))") {
            let md = try MemoryDesc(shape: shape, layout: layout)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_eltwise_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_training, eltwiseAlgorithm(cap: cap),
                      md.handle, md.handle, 0, cap ?? 0, ctx.attributes), cap == nil ? "relu" : "relu6")
            return pd!
        }
    }

    public func relu(_ x: Tensor, cap: Float?) throws -> Tensor {
        guard x.rank <= 5, x.rank > 0 else { return try fallback.relu(x, cap: cap) }
        let p = try eltwiseForward(x.shape, x.layout, cap: cap)
        let out = Tensor(uninitialized: x.shape, layout: x.layout)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), x.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)],
                        op: "relu")
        withExtendedLifetime(x) {}
        return out
    }

    public func reluBackward(_ gradOut: Tensor, output: Tensor, cap: Float?) throws -> Tensor {
        guard output.rank <= 5, output.rank > 0 else { return try fallback.reluBackward(gradOut, output: output, cap: cap) }
        let layout = output.layout
        let hint = try eltwiseForward(output.shape, layout, cap: cap)
        let p = try ctx.primitive("eltwise_bwd|\(output.shape)|\(layout)|\(String(describing: cap))") {
            let md = try MemoryDesc(shape: output.shape, layout: layout)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_eltwise_backward_primitive_desc_create(&pd, ctx.engine, eltwiseAlgorithm(cap: cap), md.handle, md.handle,
                      md.handle, 0, cap ?? 0, hint.pd, ctx.attributes), "relu backward")
            return pd!
        }
        let g = gradOut.converted(to: layout)
        let dx = Tensor(uninitialized: output.shape, layout: layout)
        try ctx.execute(p, [(DNNLArg.dst, p.md(dnnl_query_dst_md), output.rawPointer),
                            (DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), g.rawPointer),
                            (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), dx.rawPointer)], op: "relu backward")
        withExtendedLifetime((g, output)) {}
        return dx
    }

    // MARK: pooling

    func poolForward(_ x: [Int], _ out: [Int], _ a: Pool2dAttributes, max: Bool, training: Bool) throws -> Primitive {
        try ctx.primitive("pool_fwd|\(x)|\(a.kernel)|\(a.stride)|\(a.padding)|\(max)|\(training)") {
            let (src, dst) = (try MemoryDesc(shape: x, layout: .channelsLast), try MemoryDesc(shape: out, layout: .channelsLast))
            return try DNNLWindow(pooling: x, out, a).poolingForward(ctx.engine, training ? dnnl_forward_training : dnnl_forward_inference,
                                                                     max: max, src: src.handle, dst: dst.handle, attributes: ctx.attributes,
                                                                     what: max ? "max_pool2d" : "avg_pool2d")
        }
    }

    func pool(_ x: Tensor, _ a: Pool2dAttributes, max: Bool) throws -> Tensor {
        let outShape = try ShapeInference.infer(max ? .maxPool2d(a) : .avgPool2d(a), [x.shape], name: "")
        guard let p = try? poolForward(x.shape, outShape, a, max: max, training: false) else {
            return try max ? fallback.maxPool2d(x, a) : fallback.avgPool2d(x, a)
        }
        let src = channelsLast(x)
        let out = Tensor(uninitialized: outShape, layout: .channelsLast)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)],
                        op: max ? "max_pool2d" : "avg_pool2d")
        withExtendedLifetime(src) {}
        return out
    }

    func poolBackward(_ gradOut: Tensor, x: Tensor?, inputShape: [Int], _ a: Pool2dAttributes, max: Bool) throws -> Tensor {
        let hint = try poolForward(inputShape, gradOut.shape, a, max: max, training: true)
        let p = try ctx.primitive("pool_bwd|\(inputShape)|\(a.kernel)|\(a.stride)|\(a.padding)|\(max)") {
            let w = DNNLWindow(pooling: inputShape, gradOut.shape, a)
            let (s, k, dl, pl, pr) = (w.strides, w.kernel, w.dilates, w.padL, w.padR)
            let (src, dst) = (try MemoryDesc(shape: inputShape, layout: .channelsLast), try MemoryDesc(shape: gradOut.shape, layout: .channelsLast))
            var pd: dnnl_primitive_desc_t?
            try s.withPointer { s in try k.withPointer { k in try dl.withPointer { dl in try pl.withPointer { pl in try pr.withPointer { pr in
                try check(dnnl_pooling_backward_primitive_desc_create(&pd, ctx.engine, max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding,
                          src.handle, dst.handle, s, k, dl, pl, pr, hint.pd, ctx.attributes), "pool backward")
            } } } } }
            return pd!
        }
        let g = channelsLast(gradOut)
        let dx = Tensor(uninitialized: inputShape, layout: .channelsLast)
        var args = [(DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), g.rawPointer),
                    (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), dx.rawPointer)]
        var workspace: AlignedBuffer?
        if max, let x {
            // Max pooling's backward needs the forward's argmax workspace: recompute it (one cheap pass).
            let src = channelsLast(x)
            let ws = AlignedBuffer(byteCount: dnnl_memory_desc_get_size(hint.md(dnnl_query_workspace_md)))
            let scratchOut = AlignedBuffer(byteCount: gradOut.byteCount)
            try ctx.execute(hint, [(DNNLArg.src, hint.md(dnnl_query_src_md), src.rawPointer),
                                   (DNNLArg.dst, hint.md(dnnl_query_dst_md), scratchOut.pointer),
                                   (DNNLArg.workspace, hint.md(dnnl_query_workspace_md), ws.pointer)], op: "max_pool2d")
            args.append((DNNLArg.workspace, hint.md(dnnl_query_workspace_md), ws.pointer))
            workspace = ws
            withExtendedLifetime(src) {}
        }
        try ctx.execute(p, args, op: "pool backward")
        withExtendedLifetime((g, workspace)) {}
        return dx
    }

    public func maxPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor { try pool(x, a, max: true) }
    public func avgPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor { try pool(x, a, max: false) }
    public func maxPool2dBackward(_ gradOut: Tensor, x: Tensor, _ a: Pool2dAttributes) throws -> Tensor {
        try poolBackward(gradOut, x: x, inputShape: x.shape, a, max: true)
    }
    public func avgPool2dBackward(_ gradOut: Tensor, inputShape: [Int], _ a: Pool2dAttributes) throws -> Tensor {
        try poolBackward(gradOut, x: nil, inputShape: inputShape, a, max: false)
    }

    // MARK: linear (row-major sgemm)

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        let outShape = try ShapeInference.infer(.linear, [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []), name: "")
        let (n, inF, outF) = (x.shape[0], x.shape[1], weight.shape[0])
        var out = Tensor(uninitialized: outShape)
        let xs = x.contiguous()
        out.withUnsafeMutableBufferPointer { y in
            if let bias { bias.withUnsafeBufferPointer { b in for r in 0..<n { for o in 0..<outF { y[r * outF + o] = b[o] } } } }
            _ = dnnl_sgemm(78, 84, Int64(n), Int64(outF), Int64(inF), 1, xs.rawPointer.assumingMemoryBound(to: Float.self), Int64(inF),
                           weight.rawPointer.assumingMemoryBound(to: Float.self), Int64(inF), bias == nil ? 0 : 1,
                           y.baseAddress, Int64(outF))
        }
        return out
    }

    public func linearBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool) throws
        -> (input: Tensor, weight: Tensor, bias: Tensor?) {
        let (n, inF, outF) = (x.shape[0], x.shape[1], weight.shape[0])
        let (g, xs) = (gradOut.contiguous(), x.contiguous())
        let gp = g.rawPointer.assumingMemoryBound(to: Float.self)
        var dx = Tensor(uninitialized: x.shape), dw = Tensor(uninitialized: weight.shape)
        dx.withUnsafeMutableBufferPointer { d in   // dX = G·W
            _ = dnnl_sgemm(78, 78, Int64(n), Int64(inF), Int64(outF), 1, gp, Int64(outF),
                           weight.rawPointer.assumingMemoryBound(to: Float.self), Int64(inF), 0, d.baseAddress, Int64(inF))
        }
        dw.withUnsafeMutableBufferPointer { d in   // dW = Gᵀ·X
            _ = dnnl_sgemm(84, 78, Int64(outF), Int64(inF), Int64(n), 1, gp, Int64(outF),
                           xs.rawPointer.assumingMemoryBound(to: Float.self), Int64(inF), 0, d.baseAddress, Int64(inF))
        }
        var db: Tensor?
        if hasBias {
            var sums = [Float](repeating: 0, count: outF)
            g.withUnsafeBufferPointer { gs in for r in 0..<n { for o in 0..<outF { sums[o] += gs[r * outF + o] } } }
            db = try Tensor(shape: [outF], scalars: sums)
        }
        return (dx, dw, db)
    }

    // MARK: element-wise

    func binary(_ a: Tensor, _ b: Tensor, _ alg: dnnl_alg_kind_t, _ op: String) throws -> Tensor {
        guard a.shape == b.shape else { throw EngineError.shape(op, "operands \(describe(a.shape)) and \(describe(b.shape)) differ") }
        guard a.rank >= 1, a.rank <= 5 else { return try op == "add" ? fallback.add(a, b) : fallback.multiply(a, b) }
        let p = try ctx.primitive("binary|\(op)|\(a.shape)|\(a.layout)|\(b.layout)") {
            let (ma, mb) = (try MemoryDesc(shape: a.shape, layout: a.layout), try MemoryDesc(shape: b.shape, layout: b.layout))
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_binary_primitive_desc_create(&pd, ctx.engine, alg, ma.handle, mb.handle, ma.handle, ctx.attributes), op)
            return pd!
        }
        let out = Tensor(uninitialized: a.shape, layout: a.layout)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md, 0), a.rawPointer), (DNNLArg.src1, p.md(dnnl_query_src_md, 1), b.rawPointer),
                            (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)], op: op)
        withExtendedLifetime((a, b)) {}
        return out
    }

    public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(a, b, dnnl_binary_add, "add") }
    public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(a, b, dnnl_binary_mul, "multiply") }

    // MARK: resize

    func resampleForward(_ x: [Int], _ out: [Int]) throws -> Primitive {
        try ctx.primitive("resample_fwd|\(x)|\(out)") {
            let (src, dst) = (try MemoryDesc(shape: x, layout: .channelsLast), try MemoryDesc(shape: out, layout: .channelsLast))
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_resampling_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_training, dnnl_resampling_linear, nil,
                      src.handle, dst.handle, ctx.attributes), "resize_bilinear")
            return pd!
        }
    }

    public func resizeBilinear(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        let outShape = try ShapeInference.infer(.resizeBilinear(height: height, width: width), [x.shape], name: "")
        let p = try resampleForward(x.shape, outShape)
        let src = channelsLast(x)
        let out = Tensor(uninitialized: outShape, layout: .channelsLast)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)],
                        op: "resize_bilinear")
        withExtendedLifetime(src) {}
        return out
    }

    public func resizeBilinearBackward(_ gradOut: Tensor, inputShape: [Int]) throws -> Tensor {
        let hint = try resampleForward(inputShape, gradOut.shape)
        let p = try ctx.primitive("resample_bwd|\(inputShape)|\(gradOut.shape)") {
            let (src, dst) = (try MemoryDesc(shape: inputShape, layout: .channelsLast), try MemoryDesc(shape: gradOut.shape, layout: .channelsLast))
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_resampling_backward_primitive_desc_create(&pd, ctx.engine, dnnl_resampling_linear, nil, src.handle, dst.handle,
                      hint.pd, ctx.attributes), "resize_bilinear backward")
            return pd!
        }
        let g = channelsLast(gradOut)
        let dx = Tensor(uninitialized: inputShape, layout: .channelsLast)
        try ctx.execute(p, [(DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), g.rawPointer),
                            (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), dx.rawPointer)], op: "resize_bilinear backward")
        withExtendedLifetime(g) {}
        return dx
    }
}
