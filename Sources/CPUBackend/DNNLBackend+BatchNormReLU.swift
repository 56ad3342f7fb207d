import GraphCore
import CDNNL

/// Batch-norm + ReLU as one oneDNN primitive (`dnnl_fuse_norm_relu`), forward and backward: one pass over the
/// activation each way instead of two. The forward records where its output is positive in a workspace (the
/// `mask`, a bit or byte per element, wrapped as a tensor of floats for its storage only), which the backward reads.
extension DNNLBackend {
    static let fusedBatchNormFlags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | dnnl_fuse_norm_relu.rawValue

    func batchNormReLUPD(_ x: [Int], epsilon: Float) throws -> Primitive {
        try ctx.primitive("bn_relu_fwd|\(x)|\(epsilon)") {
            let md = try MemoryDesc(shape: x, layout: .channelsLast)
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_batch_normalization_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_training, md.handle,
                      md.handle, epsilon, Self.fusedBatchNormFlags, ctx.attributes), "batch_norm2d + relu")
            return pd!
        }
    }

    public func batchNormReLUTraining(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) throws
        -> (output: Tensor, mean: Tensor, variance: Tensor, mask: Tensor) {
        guard x.rank == 4, let p = try? batchNormReLUPD(x.shape, epsilon: epsilon) else {
            let (y, mean, variance) = try batchNormTraining(x, weight: weight, bias: bias, epsilon: epsilon)
            let out = try relu(y, cap: nil)
            return (out, mean, variance, out)
        }
        let src = channelsLast(x)
        let out = Tensor(uninitialized: x.shape, layout: .channelsLast)
        let c = x.shape[1]
        let (mean, variance) = (Tensor(uninitialized: [c]), Tensor(uninitialized: [c]))
        let mask = Tensor(uninitialized: [(dnnl_memory_desc_get_size(p.md(dnnl_query_workspace_md)) + 3) / 4])
        let vec = try MemoryDesc(shape: [c], layout: .rowMajor)
        try ctx.execute(p, [(DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer),
                            (DNNLArg.scale, vec.handle, weight.rawPointer), (DNNLArg.shift, vec.handle, bias.rawPointer),
                            (DNNLArg.mean, vec.handle, mean.rawPointer), (DNNLArg.variance, vec.handle, variance.rawPointer),
                            (DNNLArg.workspace, p.md(dnnl_query_workspace_md), mask.rawPointer)],
                        op: "batch_norm2d + relu")
        withExtendedLifetime((src, weight, bias)) {}
        return (out, mean, variance, mask)
    }

    public func batchNormReLUBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor, mask: Tensor,
                                      epsilon: Float) throws -> (input: Tensor, weight: Tensor, bias: Tensor) {
        // A mask of the output's own shape is the composed forward's (its fallback): so is the backward.
        guard x.rank == 4, mask.shape != x.shape, let hint = try? batchNormReLUPD(x.shape, epsilon: epsilon) else {
            let g = try reluBackward(gradOut, output: mask, cap: nil)
            return try batchNormBackward(g, x: x, weight: weight, mean: mean, variance: variance, epsilon: epsilon)
        }
        return try batchNormBackward(gradOut, x: x, weight: weight, mean: mean, variance: variance, epsilon: epsilon,
                                     forward: hint, flags: Self.fusedBatchNormFlags, workspace: mask)
    }
}
