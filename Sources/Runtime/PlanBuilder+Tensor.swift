import CDNNL
import CPUBackend
import GraphCore

/// The ops of other model families in plans: activations as one oneDNN eltwise primitive (when no convolution absorbed
/// them as a post-op), broadcast arithmetic as one binary primitive (the broadcast operand second), softmax, means
/// (reduction), transpose (a reorder into permuted strides) and concat as oneDNN primitives; padding, and a difference or
/// quotient whose first operand is the broadcast one, as a `HostStep` running the reference.
extension PlanBuilder {
    /// A plain descriptor in the plan's element type: NHWC for 4-D (the plan's layout of maps), row-major otherwise.
    mutating func plainMD(_ shape: [Int]) throws -> const_dnnl_memory_desc_t {
        guard (1...6).contains(shape.count) else {
            throw EngineError.unsupported("runtime", "a value of rank \(shape.count) (\(describe(shape))); plans hold ranks 1…6")
        }
        return keep(try MemoryDesc(shape: shape, layout: shape.count == 4 ? .channelsLast : .rowMajor, dataType: act))
    }

    /// Node `n`'s input `k` in the plain descriptor of its shape: an arena value (reordered, and dequantized in INT8
    /// plans, when stored otherwise), or a parameter copied once into a plan-owned buffer (a constant operand).
    mutating func plainInput(_ n: Int, _ k: Int, name: String) throws -> (ref: ArgRef, md: const_dnnl_memory_desc_t) {
        let id = graph.nodes[n].inputs[k]
        let md = try plainMD(shapes[id.index])
        if case .parameter = graph[id].op {
            let plain = try MemoryDesc(shape: shapes[id.index], layout: .rowMajor)
            descriptors.append(plain)
            return (.weight(try weight(id, plain: plain, as: md)), md)
        }
        return (.buffer(try value(id.index, as: md, name: name)), md)
    }

    mutating func append(_ p: Primitive, _ args: [(slot: Int32, md: const_dnnl_memory_desc_t, ref: ArgRef)], kind: OpKind, name: String) {
        pending.append(PendingStep(primitive: p, args: args, kind: kind, name: name))
    }

    mutating func eltwise(_ n: Int, _ f: Activation, name: String) throws {
        let x = try plainInput(n, 0, name: name)
        let e = f.eltwise
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_eltwise_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, e.alg, x.md, x.md, e.alpha, e.beta,
                                                                 ctx.attributes), name)
            return pd!
        }
        let out = newBuffer(x.md)
        append(p, [(DNNLArg.src, x.md, x.ref), (DNNLArg.dst, x.md, .buffer(out))], kind: .activation, name: name)
        values[n] = (out, x.md)
    }

    /// a ∘ b: oneDNN's binary primitive broadcasts its second source, so the full-shape operand goes first (swapped for a
    /// sum or product); a difference or quotient of a broadcast first operand runs on the host.
    mutating func binary(_ n: Int, _ op: BinaryOperator, name: String) throws {
        let node = graph.nodes[n]
        let out = shapes[n]
        var (first, second) = (0, 1)
        if shapes[node.inputs[0].index] != out && shapes[node.inputs[1].index] == out && op.commutes { (first, second) = (1, 0) }
        let bShape = shapes[node.inputs[second].index]
        // A lower-rank second operand is described with leading 1s, which reads its bytes right when it is row-major (not a map).
        guard shapes[node.inputs[first].index] == out, (1...6).contains(out.count), !bShape.isEmpty,
              bShape.count == out.count || (bShape.count < out.count && bShape.count != 4) else {
            return try hostStep(n, what: op.rawValue, kind: .elementwise, name: name,
                                body: HostStep.binary(op, shapes[node.inputs[0].index], shapes[node.inputs[1].index], to: out))
        }
        let a = try plainInput(n, first, name: name)
        var b = try plainInput(n, second, name: name)
        if bShape.count < out.count {
            // The same row-major bytes with leading 1s (a rank-4 operand is NHWC and never needs them).
            b.md = keep(try MemoryDesc(shape: Array(repeating: 1, count: out.count - bShape.count) + bShape, layout: .rowMajor, dataType: act))
        }
        let alg = switch op {
        case .add: dnnl_binary_add
        case .sub: dnnl_binary_sub
        case .mul: dnnl_binary_mul
        case .div: dnnl_binary_div
        }
        let bmd = b.md
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_binary_primitive_desc_create(&pd, ctx.engine, alg, a.md, bmd, a.md, ctx.attributes), name)
            return pd!
        }
        let buffer = newBuffer(a.md)   // a's shape is the result's
        append(p, [(DNNLArg.src, a.md, a.ref), (DNNLArg.src1, b.md, b.ref), (DNNLArg.dst, a.md, .buffer(buffer))],
               kind: .elementwise, name: name)
        values[n] = (buffer, a.md)
    }

    mutating func softmax(_ n: Int, axis: Int, name: String) throws {
        let x = try plainInput(n, 0, name: name)
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_softmax_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, dnnl_softmax_accurate, x.md, x.md,
                                                                 Int32(axis), ctx.attributes), name)
            return pd!
        }
        let out = newBuffer(x.md)
        append(p, [(DNNLArg.src, x.md, x.ref), (DNNLArg.dst, x.md, .buffer(out))], kind: .softmax, name: name)
        values[n] = (out, x.md)
    }

    /// oneDNN's mean reduction into the kept-dims shape, row-major, whose bytes are also the squeezed shape's.
    mutating func reduceMean(_ n: Int, axes: [Int], keepDims: Bool, name: String) throws {
        let x = try plainInput(n, 0, name: name)
        let inShape = shapes[graph.nodes[n].inputs[0].index]
        let kept = inShape.indices.map { axes.contains($0) ? 1 : inShape[$0] }
        guard !shapes[n].isEmpty else { throw EngineError.unsupported("runtime", "\(name): a mean over every axis (a scalar) in a plan") }
        let dst = keep(try MemoryDesc(shape: kept, layout: .rowMajor, dataType: act))
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_reduction_primitive_desc_create(&pd, ctx.engine, dnnl_reduction_mean, x.md, dst, 0, 0, ctx.attributes), name)
            return pd!
        }
        let out = newBuffer(dst)
        append(p, [(DNNLArg.src, x.md, x.ref), (DNNLArg.dst, dst, .buffer(out))], kind: .reduction, name: name)
        values[n] = (out, keepDims ? dst : keep(try MemoryDesc(shape: shapes[n], layout: .rowMajor, dataType: act)))
    }

    /// A reorder from the input into a descriptor of the input's dims whose strides lay it out as the output, row-major.
    mutating func transpose(_ n: Int, permutation perm: [Int], name: String) throws {
        let x = try plainInput(n, 0, name: name)
        let outMD = keep(try MemoryDesc(shape: shapes[n], layout: .rowMajor, dataType: act))
        var permuted: dnnl_memory_desc_t?
        // Axis i of the output is axis perm[i] of the input: it goes to position perm[i].
        try perm.map { Int32($0) }.withUnsafeBufferPointer { try check(dnnl_memory_desc_permute_axes(&permuted, outMD, $0.baseAddress), name) }
        let dst = keep(MemoryDesc(handle: permuted!))
        let out = newBuffer(outMD)
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_reorder_primitive_desc_create(&pd, x.md, ctx.engine, dst, ctx.engine, ctx.attributes), name)
            return pd!
        }
        append(p, [(DNNLArg.src, x.md, x.ref), (DNNLArg.dst, dst, .buffer(out))], kind: .dataMovement, name: name)
        values[n] = (out, outMD)
    }

    mutating func concat(_ n: Int, axis: Int, name: String) throws {
        let sources = try graph.nodes[n].inputs.indices.map { try plainInput(n, $0, name: name) }
        let dst = try plainMD(shapes[n])
        let mds: [const_dnnl_memory_desc_t?] = sources.map(\.md)
        let p = try makePrimitive(name) {
            var pd: dnnl_primitive_desc_t?
            try mds.withUnsafeBufferPointer {
                try check(dnnl_concat_primitive_desc_create(&pd, ctx.engine, dst, Int32(mds.count), Int32(axis), $0.baseAddress, ctx.attributes), name)
            }
            return pd!
        }
        let out = newBuffer(dst)
        let multipleSource: Int32 = 1024   // DNNL_ARG_MULTIPLE_SRC
        append(p, sources.enumerated().map { (multipleSource + Int32($0.offset), $0.element.md, $0.element.ref) }
                  + [(DNNLArg.dst, dst, .buffer(out))], kind: .dataMovement, name: name)
        values[n] = (out, dst)
    }

    /// A `HostStep` for node `n`: its computed inputs (at most two) read row-major float32 from the arena, its parameter
    /// inputs copied once into plan-owned buffers.
    mutating func hostStep(_ n: Int, what: String, kind: OpKind, name: String,
                           body: @escaping ([UnsafePointer<Float>], UnsafeMutablePointer<Float>) -> Void) throws {
        let node = graph.nodes[n]
        var buffers: [Int] = []
        var operands: [HostStep.Operand] = []
        for id in node.inputs {
            guard (1...6).contains(shapes[id.index].count) else { throw EngineError.unsupported("runtime", "\(name): an input of rank \(shapes[id.index].count)") }
            if case .parameter = graph[id].op {
                operands.append(.constant(UnsafePointer(weights[try vector(id)].pointer.assumingMemoryBound(to: Float.self))))
                continue
            }
            operands.append(.input(buffers.count))
            buffers.append(try value(id.index, as: keep(try MemoryDesc(shape: shapes[id.index], layout: .rowMajor)), name: name))
        }
        guard (1...2).contains(buffers.count) else { throw EngineError.unsupported("runtime", "\(name): \(what) of \(buffers.count) computed inputs") }
        let rowMajorOut = keep(try MemoryDesc(shape: shapes[n], layout: .rowMajor))
        let out = newBuffer(rowMajorOut)
        var s = PendingStep(primitive: nil, args: [], kind: kind, name: name)
        s.custom = (HostStep(operands: operands, what: what, body: body), buffers[0], out, buffers.count > 1 ? buffers[1] : nil)
        pending.append(s)
        values[n] = (out, rowMajorOut)
    }
}
