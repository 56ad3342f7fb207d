import GraphCore
import CDNNL

/// What the CPU backend can fuse into a convolution's output pass (oneDNN post-ops).
public enum FusedPostOp: @unchecked Sendable {
    /// Adds a tensor of the output's shape (the residual of a ResNet block).
    case add(Tensor)
    case relu
    case relu6
    /// Sigmoid, hard-sigmoid, hard-swish or swish: one oneDNN eltwise algorithm each (`Activation.eltwise`).
    case activation(Activation)

    package var key: String {
        switch self {
        case .add: "add"
        case .relu: "relu"
        case .relu6: "relu6"
        case .activation(let f): "\(f)"
        }
    }

    /// The post-op for an activation node fused after a convolution (nil for an op that is not one).
    package init?(activation op: Op) {
        switch op {
        case .relu: self = .relu
        case .relu6: self = .relu6
        case .activation(let f): self = .activation(f)
        default: return nil
        }
    }

    /// oneDNN's eltwise algorithm and (alpha, beta) for an activation post-op (nil for the residual add).
    package var eltwise: (alg: dnnl_alg_kind_t, alpha: Float, beta: Float)? {
        switch self {
        case .add: nil
        case .relu: (dnnl_eltwise_relu, 0, 0)
        case .relu6: (dnnl_eltwise_clip_v2, 0, 6)
        case .activation(let f): f.eltwise
        }
    }

    /// The same effect without fusion, for the fallback path.
    func applyReference(_ y: Tensor, _ backend: some Backend) throws -> Tensor {
        switch self {
        case .add(let r): try backend.add(y, r)
        case .relu: try backend.relu(y, cap: nil)
        case .relu6: try backend.relu(y, cap: 6)
        case .activation(let f): try backend.activation(y, f)
        }
    }
}

extension Activation {
    /// oneDNN's eltwise algorithm computing it, with its (alpha, beta): logistic; hardsigmoid max(0, min(1, α·x + β));
    /// hardswish x·max(0, min(1, α·x + β)) with α = 1/6, β = 1/2; swish x·σ(α·x) with α = 1.
    package var eltwise: (alg: dnnl_alg_kind_t, alpha: Float, beta: Float) {
        switch self {
        case .sigmoid: (dnnl_eltwise_logistic, 0, 0)
        case .hardSigmoid(let a, let b): (dnnl_eltwise_hardsigmoid, a, b)
        case .hardSwish: (dnnl_eltwise_hardswish, 1 / 6, 0.5)
        case .swish: (dnnl_eltwise_swish, 1, 0)
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
            case .relu, .relu6, .activation:
                let e = op.eltwise!
                try check(dnnl_post_ops_append_eltwise(ops, e.alg, e.alpha, e.beta), "post-op \(op.key)")
            }
        }
        try check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        return attr!
    }
}
