import GraphCore

// The ops of MobileNetV3- and EfficientNet-style models (squeeze-excitation, hard-swish, SiLU) and the tensor ops
// around classifier heads: broadcast arithmetic, activations, Softmax, Transpose, Pad, Concat of tensors, ReduceMean
// over any axes but the batch. The batch stays dim 0 of every activation: an op that would move it, pad it, mix it or
// stretch a constant along it is refused, naming the node.

extension ImportTranslator {
    /// Add, Sub, Mul, Div with NumPy broadcasting; either operand may be a float constant (it becomes a parameter).
    /// A sum of two equal-shape activations is the IR's `add` (which convolutions absorb as a residual).
    func binary(_ n: Onnx_NodeProto, _ op: BinaryOperator, name: String, _ ctx: String) throws -> ValueID {
        let computed = n.input.map { if case .tensor? = values[$0] { true } else { false } }
        guard computed.contains(true) else {
            throw ONNXError(.unsupported, ctx, "\(n.opType) of two constants; constants are not folded at import")
        }
        let a = try binaryOperand(n.input[0], ctx), b = try binaryOperand(n.input[1], ctx)
        let (sa, sb) = (shape(a), shape(b))
        guard let out = ShapeInference.broadcast(sa, sb) else {
            throw ONNXError(.invalidGraph, ctx, "operands \(describe(sa)) and \(describe(sb)) do not broadcast")
        }
        let isBatched = batched[a.index] || batched[b.index]
        for (id, s) in [(a, sa), (b, sb)] where isBatched {
            if batched[id.index] {
                guard s.count == out.count else {
                    throw ONNXError(.unsupported, ctx, "the activation \(describe(s)) broadcasts against a constant of higher rank, which would move the batch axis")
                }
            } else if s.count == out.count && s[0] != 1 {
                throw ONNXError(.unsupported, ctx, "the constant operand \(describe(s)) spans the batch axis of \(describe(out)); its first dimension must be 1")
            }
        }
        if op == .add && sa == sb && batched[a.index] == batched[b.index] {
            return try append(.add, [a, b], name: name, ctx)
        }
        return try append(.binary(op), [a, b], name: name, ctx)
    }

    /// An operand of broadcast arithmetic; a constant scalar becomes a 1-element vector (the same broadcast; plans
    /// hold no rank-0 values).
    func binaryOperand(_ input: String, _ ctx: String) throws -> ValueID {
        if let ref = constant(input), ref.tensor.shape.isEmpty {
            return try derivedLeaf(base: ref.name, ConstantTensor(shape: [1], values: ref.tensor.values), ctx)
        }
        return try operand(input, ctx)
    }

    /// Sigmoid, HardSigmoid (α 0.2, β 0.5 by default), HardSwish, and opset 24's Swish (α 1 only).
    func activationOp(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let f: Activation
        switch n.opType {
        case "Sigmoid": f = .sigmoid
        case "HardSwish": f = .hardSwish
        case "HardSigmoid":
            let alpha = try a.float("alpha") ?? 0.2, beta = try a.float("beta") ?? 0.5
            guard alpha.isFinite, beta.isFinite else { throw ONNXError(.invalidGraph, ctx, "alpha \(alpha) and beta \(beta) must be finite") }
            f = .hardSigmoid(alpha: alpha, beta: beta)
        default:  // Swish
            let alpha = try a.float("alpha") ?? 1
            guard alpha == 1 else { throw ONNXError(.unsupported, ctx, "Swish with alpha \(alpha); only alpha 1 (SiLU, x·σ(x)) is supported") }
            f = .swish
        }
        return try append(.activation(f), [try activation(n.input[0], ctx)], name: name, ctx)
    }

    /// `axis` (may be negative) as a non-negative axis of rank `rank`.
    func normalizedAxis(_ axis: Int, rank: Int, _ ctx: String) throws -> Int {
        guard axis >= -rank, axis < rank else { throw ONNXError(.invalidGraph, ctx, "axis \(axis) out of range for rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }

    /// Softmax along one axis (opset 13's definition, default −1). Before opset 13 the input is flattened to 2-D at
    /// `axis` (default 1) and normalised over everything after it: the same where the axis is the last non-1 one.
    func softmaxOp(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let x = try activation(n.input[0], ctx)
        let xs = shape(x)
        let axis = try normalizedAxis(try a.int("axis") ?? (opset >= 13 ? -1 : 1), rank: xs.count, ctx)
        if opset < 13 {
            guard xs[(axis + 1)...].allSatisfy({ $0 == 1 }) else {
                throw ONNXError(.unsupported, ctx, "Softmax (opset \(opset)) normalises \(describe(xs)) over axes \(axis)… together; only one axis is supported (export with opset ≥ 13)")
            }
        }
        if axis == 0 && batched[x.index] { throw ONNXError(.unsupported, ctx, "Softmax over the batch axis is not supported") }
        return try append(.softmax(axis: axis), [x], name: name, ctx)
    }

    func transposeOp(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let x = try activation(n.input[0], ctx)
        let rank = shape(x).count
        let perm = try a.ints("perm", count: rank) ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else { throw ONNXError(.invalidGraph, ctx, "perm \(perm) is not a permutation of \(rank) axes") }
        if batched[x.index] && perm.first != 0 {
            throw ONNXError(.unsupported, ctx, "Transpose with perm \(perm) moves the batch axis; only permutations keeping axis 0 first are supported")
        }
        if perm == Array(0..<rank) { return x }
        return try append(.transpose(permutation: perm), [x], name: name, ctx)
    }

    /// Pad (opset ≥ 11: pads, constant_value and, from 18, axes as inputs known at import); constant, reflect, edge.
    func padOp(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let x = try activation(n.input[0], ctx)
        let rank = shape(x).count
        let modeName = try a.string("mode") ?? "constant"
        guard let mode = PadAttributes.Mode(rawValue: modeName) else {
            throw ONNXError(.unsupported, ctx, "Pad mode '\(modeName)'; constant, reflect and edge are supported")
        }
        func present(_ k: Int) -> String? { k < n.input.count && !n.input[k].isEmpty ? n.input[k] : nil }
        let pads = try knownInts(n.input[1], ctx)
        let axes = try present(3).map { try knownInts($0, ctx).map { try normalizedAxis($0, rank: rank, ctx) } } ?? Array(0..<rank)
        guard Set(axes).count == axes.count, pads.count == 2 * axes.count else {
            throw ONNXError(.invalidGraph, ctx, "\(pads.count) pads for axes \(axes) (2 per axis)")
        }
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (i, axis) in axes.enumerated() { (begin[axis], end[axis]) = (pads[i], pads[i + axes.count]) }
        guard (begin + end).allSatisfy({ (0...limits.maxSpatial).contains($0) }) else {
            throw ONNXError(.unsupported, ctx, "pads \(pads): negative pads (cropping) are not supported, and pads are at most \(limits.maxSpatial)")
        }
        if batched[x.index] && (begin[0] != 0 || end[0] != 0) { throw ONNXError(.unsupported, ctx, "padding the batch axis is not supported") }
        var value: Float = 0
        if let v = present(2) {
            guard mode == .constant else { throw ONNXError(.invalidGraph, ctx, "constant_value with mode '\(modeName)'") }
            value = try scalarFloat(v, ctx)
            guard value.isFinite else { throw ONNXError(.invalidGraph, ctx, "constant_value \(value) is not finite") }
        }
        if begin.allSatisfy({ $0 == 0 }) && end.allSatisfy({ $0 == 0 }) { return x }
        return try append(.pad(PadAttributes(begin: begin, end: end, mode: mode, value: value)), [x], name: name, ctx)
    }

    /// Concat of tensors along an axis other than the batch; constant operands become parameters.
    func concatTensors(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let inputs = try n.input.filter { !$0.isEmpty }.map { try operand($0, ctx) }
        guard let first = inputs.first(where: { batched[$0.index] }) ?? inputs.first else { throw ONNXError(.invalidGraph, ctx, "no inputs") }
        guard let axisValue = try a.int("axis") else { throw ONNXError(.invalidGraph, ctx, "axis is required") }
        let axis = try normalizedAxis(axisValue, rank: shape(first).count, ctx)
        if inputs.contains(where: { batched[$0.index] }) {
            guard axis != 0 else { throw ONNXError(.unsupported, ctx, "Concat along the batch axis is not supported") }
            guard inputs.allSatisfy({ batched[$0.index] }) else {
                throw ONNXError(.unsupported, ctx, "Concat of activations with constants (which cannot follow the batch size) is not supported")
            }
        }
        if inputs.count == 1 { return inputs[0] }
        return try append(.concat(axis: axis), inputs, name: name, ctx)
    }

    /// A mean over `axes` other than the batch; over H and W of `[N, C, H, W]` it is global average pooling (which plans
    /// fuse with the classifier that follows).
    func reduceMeanOp(_ x: ValueID, axes: [Int]?, keepDims: Bool, noopWithEmptyAxes: Bool, name: String, _ ctx: String) throws -> ValueID {
        let xs = shape(x)
        let rank = xs.count
        guard let given = axes, !given.isEmpty else {
            if noopWithEmptyAxes { return x }
            throw ONNXError(.unsupported, ctx, "ReduceMean over every axis (the batch included) is not supported")
        }
        let normalized = try given.map { try normalizedAxis($0, rank: rank, ctx) }
        guard Set(normalized).count == normalized.count else { throw ONNXError(.invalidGraph, ctx, "repeated axes \(given)") }
        if batched[x.index] && normalized.contains(0) {
            throw ONNXError(.unsupported, ctx, "ReduceMean over the batch axis is not supported")
        }
        let sorted = normalized.sorted()
        if rank == 4 && sorted == [2, 3] {
            let y = try append(.globalAvgPool, [x], name: name, ctx)
            return keepDims ? y : try append(.flatten(startDim: 1), [y], name: name, ctx)
        }
        return try append(.reduceMean(axes: sorted, keepDims: keepDims), [x], name: name, ctx)
    }
}
