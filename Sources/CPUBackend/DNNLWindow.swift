import CDNNL
import GraphCore

/// oneDNN's view of a convolution and a pooling window, built once here for the backend's kernels and the runtime's
/// plans alike: strides, dilations (oneDNN counts them from 0, PyTorch from 1), and the right padding that makes
/// oneDNN's output-size formula give the output the graph's shape inference gave.
package struct DNNLWindow {
    package let strides, kernel, dilates, padL, padR: DNNLDims

    /// A convolution `x ⊛ w → out` (`[N, C, H, W]`, `[K, C/g, kH, kW]`, `[N, K, Ho, Wo]`).
    package init(convolution x: [Int], _ w: [Int], _ out: [Int], _ a: Conv2dAttributes) {
        strides = DNNLDims([a.stride.h, a.stride.w])
        kernel = DNNLDims([w[2], w[3]])
        dilates = DNNLDims([a.dilation.h - 1, a.dilation.w - 1])
        padL = DNNLDims([a.padding.h, a.padding.w])
        padR = DNNLDims([(out[2] - 1) * a.stride.h + (w[2] - 1) * a.dilation.h + 1 - x[2] - a.padding.h,
                         (out[3] - 1) * a.stride.w + (w[3] - 1) * a.dilation.w + 1 - x[3] - a.padding.w])
    }

    /// A pooling window over `x` giving `out`.
    package init(pooling x: [Int], _ out: [Int], _ a: Pool2dAttributes) {
        strides = DNNLDims([a.stride.h, a.stride.w])
        kernel = DNNLDims([a.kernel.h, a.kernel.w])
        dilates = DNNLDims([0, 0])
        padL = DNNLDims([a.padding.h, a.padding.w])
        padR = DNNLDims([(out[2] - 1) * a.stride.h + a.kernel.h - x[2] - a.padding.h,
                         (out[3] - 1) * a.stride.w + a.kernel.w - x[3] - a.padding.w])
    }

    /// A direct convolution's forward primitive descriptor (`bias` nil: none; `weights` usually `format_tag_any`).
    package func convolutionForward(_ engine: dnnl_engine_t, _ prop: dnnl_prop_kind_t, src: const_dnnl_memory_desc_t,
                                    weights: const_dnnl_memory_desc_t, bias: const_dnnl_memory_desc_t?, dst: const_dnnl_memory_desc_t,
                                    attributes: const_dnnl_primitive_attr_t?, what: @autoclosure () -> String) throws -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        try strides.withPointer { s in try dilates.withPointer { dl in try padL.withPointer { pl in try padR.withPointer { pr in
            try check(dnnl_convolution_forward_primitive_desc_create(&pd, engine, prop, dnnl_convolution_direct, src, weights, bias, dst,
                                                                     s, dl, pl, pr, attributes), what())
        } } } }
        return pd!
    }

    /// A max or average (padding included, as PyTorch's default) pooling's forward primitive descriptor.
    package func poolingForward(_ engine: dnnl_engine_t, _ prop: dnnl_prop_kind_t, max: Bool, src: const_dnnl_memory_desc_t,
                                dst: const_dnnl_memory_desc_t, attributes: const_dnnl_primitive_attr_t?,
                                what: @autoclosure () -> String) throws -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        try strides.withPointer { s in try kernel.withPointer { k in try dilates.withPointer { dl in try padL.withPointer { pl in
            try padR.withPointer { pr in
                try check(dnnl_pooling_forward_primitive_desc_create(&pd, engine, prop, max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding,
                                                                     src, dst, s, k, dl, pl, pr, attributes), what())
            }
        } } } }
        return pd!
    }
}
