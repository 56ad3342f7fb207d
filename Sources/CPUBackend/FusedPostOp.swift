import GraphCore
import CDNNL

/// What the CPU backend can fuse into a convolution's output pass (oneDNN post-ops).
public enum FusedPostOp: @unchecked Sendable {
    /// Adds a tensor of the output's shape (the residual of a ResNet block).
    case add(Tensor)
    case relu
    case relu6

    package var key: String {
        switch self {
        case .add: "add"
        case .relu: "relu"
        case .relu6: "relu6"
        }
    }

    /// The same effect without fusion, for the fallback path.
    func applyReference(_ y: Tensor, _ backend: some Backend) throws -> Tensor {
        switch self {
        case .add(let r): try backend.add(y, r)
        case .relu: try backend.relu(y, cap: nil)
        case .relu6: try backend.relu(y, cap: 6)
        }
    }
}

extension DNNLContext {
    /// A new attribute set (user scratchpad plus `postOps`); the caller destroys it.
    package func attributes(with postOps: [FusedPostOp]) throws -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_clone(&attr, attributes), "post-ops")
        var ops: dnnl_post_ops_t?
        try check(dnnl_post_ops_create(&ops), "post-ops")
        defer { dnnl_post_ops_destroy(ops) }
        for op in postOps {
            switch op {
            case .add: try check(dnnl_post_ops_append_sum(ops, 1, 0, dnnl_data_type_undef), "post-op sum")
            case .relu: try check(dnnl_post_ops_append_eltwise(ops, dnnl_eltwise_relu, 0, 0), "post-op relu")
            case .relu6: try check(dnnl_post_ops_append_eltwise(ops, dnnl_eltwise_clip_v2, 0, 6), "post-op relu6")
            }
        }
        try check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        return attr!
    }
}
