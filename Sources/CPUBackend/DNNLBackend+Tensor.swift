import GraphCore
import CDNNL

/// oneDNN kernels for the activations (one eltwise primitive each, forward and backward) and for broadcast arithmetic
/// whose second operand is the broadcast one (the binary primitive broadcasts `src1` only). The other tensor ops, and
/// the forms these do not take, run the reference's loops (`Backend+HostDefaults.swift`).
extension DNNLBackend {
    func eltwise(_ f: Activation, _ shape: [Int], _ layout: Layout) throws -> Primitive {
        let e = f.eltwise
        return try ctx.primitive("eltwise_fwd|\(f)|\(shape)|\(layout)") {
            let md = try MemoryDesc(shape: shape, layout: layout)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_eltwise_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_training, e.alg, md.handle, md.handle,
                                                                 e.alpha, e.beta, ctx.attributes), f.name)
            return pd!
        }
    }

    public func activation(_ x: Tensor, _ f: Activation) throws -> Tensor {
        guard (1...5).contains(x.rank), x.count > 0 else { return try fallback.activation(x, f) }
        let p = try eltwise(f, x.shape, x.layout)
        let out = Tensor(uninitialized: x.shape, layout: x.layout)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), x.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)],
                        op: f.name)
        withExtendedLifetime(x) {}
        return out
    }

    public func activationBackward(_ gradOut: Tensor, x: Tensor, _ f: Activation) throws -> Tensor {
        guard (1...5).contains(x.rank), x.count > 0, gradOut.shape == x.shape else { return try fallback.activationBackward(gradOut, x: x, f) }
        let (layout, e) = (x.layout, f.eltwise)
        let hint = try eltwise(f, x.shape, layout)
        let p = try ctx.primitive("eltwise_bwd|\(f)|\(x.shape)|\(layout)") {
            let md = try MemoryDesc(shape: x.shape, layout: layout)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_eltwise_backward_primitive_desc_create(&pd, ctx.engine, e.alg, md.handle, md.handle, md.handle, e.alpha, e.beta,
                                                                  hint.pd, ctx.attributes), f.name + " backward")
            return pd!
        }
        let g = gradOut.converted(to: layout)
        let dx = Tensor(uninitialized: x.shape, layout: layout)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), x.rawPointer), (DNNLArg.diffDst, p.md(dnnl_query_diff_dst_md), g.rawPointer),
                            (DNNLArg.diffSrc, p.md(dnnl_query_diff_src_md), dx.rawPointer)], op: f.name + " backward")
        withExtendedLifetime((g, x)) {}
        return dx
    }

    /// a ∘ b where b broadcasts to a's shape (a sum or product with the broadcast operand first is swapped); else the reference.
    public func binary(_ op: BinaryOperator, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard let shape = ShapeInference.broadcast(a.shape, b.shape) else { return try fallback.binary(op, a, b) }
        if a.shape != shape && b.shape == shape && op.commutes { return try binary(op, b, a) }
        // A lower-rank b is read with leading 1s, which describes its bytes only when row-major.
        guard a.shape == shape, (1...5).contains(shape.count), !b.shape.isEmpty, a.count > 0,
              b.shape.count == shape.count || b.layout == .rowMajor else { return try fallback.binary(op, a, b) }
        let bDims = Array(repeating: 1, count: shape.count - b.shape.count) + b.shape
        let bLayout = b.shape.count == shape.count ? b.layout : .rowMajor
        let alg = switch op {
        case .add: dnnl_binary_add
        case .sub: dnnl_binary_sub
        case .mul: dnnl_binary_mul
        case .div: dnnl_binary_div
        }
        let p = try ctx.primitive("binary|\(op)|\(a.shape)|\(a.layout)|\(bDims)|\(bLayout)") {
            let (ma, mb) = (try MemoryDesc(shape: a.shape, layout: a.layout), try MemoryDesc(shape: bDims, layout: bLayout))
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_binary_primitive_desc_create(&pd, ctx.engine, alg, ma.handle, mb.handle, ma.handle, ctx.attributes), op.rawValue)
            return pd!
        }
        let out = Tensor(uninitialized: a.shape, layout: a.layout)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md, 0), a.rawPointer), (DNNLArg.src1, p.md(dnnl_query_src_md, 1), b.rawPointer),
                            (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer)], op: op.rawValue)
        withExtendedLifetime((a, b)) {}
        return out
    }
}
