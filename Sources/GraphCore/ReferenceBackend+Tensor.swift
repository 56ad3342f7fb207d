import Foundation

// The reference of the ops ONNX models from other families bring (MobileNetV3, EfficientNet): broadcast arithmetic,
// activations, softmax, transpose, pad, concat and mean, forward and backward, as plain loops over row-major
// elements (any input layout is read through `contiguous()`). Sums accumulate in Double.

extension ReferenceBackend {
    public func binary(_ op: BinaryOperator, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard let shape = ShapeInference.broadcast(a.shape, b.shape) else {
            throw EngineError.shape(op.rawValue, "operands \(describe(a.shape)) and \(describe(b.shape)) do not broadcast")
        }
        let (xa, xb) = (a.scalars, b.scalars)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        StridedWalk.walk(shape, StridedWalk.broadcastStrides(a.shape, to: shape), StridedWalk.broadcastStrides(b.shape, to: shape)) { k, i, j in
            out[k] = op.apply(xa[i], xb[j])
        }
        return try Tensor(shape: shape, scalars: out)
    }

    /// The gradients of a ∘ b, each summed over the axes its operand was broadcast along.
    public func binaryBackward(_ op: BinaryOperator, _ gradOut: Tensor, a: Tensor, b: Tensor) throws -> (a: Tensor, b: Tensor) {
        guard let shape = ShapeInference.broadcast(a.shape, b.shape), shape == gradOut.shape else {
            throw EngineError.shape(op.rawValue + " backward", "gradient \(describe(gradOut.shape)) for operands \(describe(a.shape)), \(describe(b.shape))")
        }
        let (xa, xb, g) = (a.scalars, b.scalars, gradOut.scalars)
        var da = [Double](repeating: 0, count: xa.count), db = [Double](repeating: 0, count: xb.count)
        StridedWalk.walk(shape, StridedWalk.broadcastStrides(a.shape, to: shape), StridedWalk.broadcastStrides(b.shape, to: shape)) { k, i, j in
            let gk = Double(g[k]), (x, y) = (Double(xa[i]), Double(xb[j]))
            switch op {
            case .add: da[i] += gk; db[j] += gk
            case .sub: da[i] += gk; db[j] -= gk
            case .mul: da[i] += gk * y; db[j] += gk * x
            case .div: da[i] += gk / y; db[j] -= gk * x / (y * y)
            }
        }
        return (try Tensor(shape: a.shape, scalars: da.map { Float($0) }), try Tensor(shape: b.shape, scalars: db.map { Float($0) }))
    }

    public func activation(_ x: Tensor, _ f: Activation) throws -> Tensor {
        try Tensor(shape: x.shape, scalars: x.scalars.map(f.apply))
    }

    public func activationBackward(_ gradOut: Tensor, x: Tensor, _ f: Activation) throws -> Tensor {
        guard gradOut.shape == x.shape else { throw EngineError.shape(f.name + " backward", "gradient \(describe(gradOut.shape)), input \(describe(x.shape))") }
        return try Tensor(shape: x.shape, scalars: zip(gradOut.scalars, x.scalars).map { g, v in g * f.derivative(v) })
    }

    /// `[outer, n, inner]` views of `shape` around `axis`.
    static func split(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    public func softmax(_ x: Tensor, axis: Int) throws -> Tensor {
        _ = try ShapeInference.infer(.softmax(axis: axis), [x.shape], name: "")
        let xs = x.scalars
        let (outer, n, inner) = Self.split(x.shape, axis)
        var out = xs
        for o in 0..<outer { for i in 0..<inner {
            let base = o * n * inner + i
            var m = -Float.infinity
            for j in 0..<n { m = max(m, xs[base + j * inner]) }
            var sum = 0.0
            for j in 0..<n { sum += Foundation.exp(Double(xs[base + j * inner] - m)) }
            for j in 0..<n { out[base + j * inner] = Float(Foundation.exp(Double(xs[base + j * inner] - m)) / sum) }
        } }
        return try Tensor(shape: x.shape, scalars: out)
    }

    /// dx = y · (g − Σ_axis g·y), from the forward's output y.
    public func softmaxBackward(_ gradOut: Tensor, output: Tensor, axis: Int) throws -> Tensor {
        let (y, g) = (output.scalars, gradOut.scalars)
        let (outer, n, inner) = Self.split(output.shape, axis)
        var dx = y
        for o in 0..<outer { for i in 0..<inner {
            let base = o * n * inner + i
            var dotGY = 0.0
            for j in 0..<n { dotGY += Double(g[base + j * inner]) * Double(y[base + j * inner]) }
            for j in 0..<n { let k = base + j * inner; dx[k] = Float(Double(y[k]) * (Double(g[k]) - dotGY)) }
        } }
        return try Tensor(shape: output.shape, scalars: dx)
    }

    public func transpose(_ x: Tensor, permutation perm: [Int]) throws -> Tensor {
        let shape = try ShapeInference.infer(.transpose(permutation: perm), [x.shape], name: "")
        let xs = x.scalars, s = StridedWalk.strides(x.shape)
        var out = [Float](repeating: 0, count: xs.count)
        StridedWalk.walk(shape, perm.map { s[$0] }, [Int](repeating: 0, count: shape.count)) { k, i, _ in out[k] = xs[i] }
        return try Tensor(shape: shape, scalars: out)
    }

    /// Calls `body(k, source)` for each output element k of padding `inputShape`: the row-major input offset it
    /// reads, or nil where it holds the constant.
    static func forEachPadded(_ inputShape: [Int], _ a: PadAttributes, _ body: (Int, Int?) -> Void) throws {
        let outShape = try ShapeInference.infer(.pad(a), [inputShape], name: "")
        let s = StridedWalk.strides(inputShape)
        // Per axis, each output index's contribution to the input offset (nil: outside, constant).
        let tables: [[Int?]] = outShape.indices.map { d in
            (0..<outShape[d]).map { i in a.source(i, axis: d, size: inputShape[d]).map { $0 * s[d] } }
        }
        let count = outShape.reduce(1, *)
        guard count > 0 else { return }
        var idx = [Int](repeating: 0, count: outShape.count)
        for k in 0..<count {
            var offset: Int? = 0
            for d in idx.indices { if let o = offset, let t = tables[d][idx[d]] { offset = o + t } else { offset = nil; break } }
            body(k, offset)
            var d = idx.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < outShape[d] { break }; idx[d] = 0; d -= 1 }
        }
    }

    /// For each output element of padding `inputShape` (row-major), the input offset it copies, or −1 for the constant.
    public static func padSources(_ inputShape: [Int], _ a: PadAttributes) throws -> [Int] {
        var sources: [Int] = []
        try forEachPadded(inputShape, a) { _, i in sources.append(i ?? -1) }
        return sources
    }

    public func pad(_ x: Tensor, _ a: PadAttributes) throws -> Tensor {
        let xs = x.scalars
        let shape = try ShapeInference.infer(.pad(a), [x.shape], name: "")
        var out = [Float](repeating: a.value, count: shape.reduce(1, *))
        try Self.forEachPadded(x.shape, a) { k, i in if let i { out[k] = xs[i] } }
        return try Tensor(shape: shape, scalars: out)
    }

    /// Each output gradient goes to the input element it was copied from (several, at reflected or repeated edges).
    public func padBackward(_ gradOut: Tensor, inputShape: [Int], _ a: PadAttributes) throws -> Tensor {
        let g = gradOut.scalars
        var dx = [Double](repeating: 0, count: inputShape.reduce(1, *))
        try Self.forEachPadded(inputShape, a) { k, i in if let i { dx[i] += Double(g[k]) } }
        return try Tensor(shape: inputShape, scalars: dx.map { Float($0) })
    }

    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
        let shape = try ShapeInference.infer(.concat(axis: axis), xs.map(\.shape), name: "")
        let (outer, _, inner) = Self.split(shape, axis)
        var out: [Float] = []
        out.reserveCapacity(shape.reduce(1, *))
        let parts = xs.map { ($0.scalars, $0.shape[axis] * inner) }
        for o in 0..<outer { for (values, block) in parts { out += values[(o * block)..<((o + 1) * block)] } }
        return try Tensor(shape: shape, scalars: out)
    }

    /// The gradient's slices along `axis`, one per input.
    public func concatBackward(_ gradOut: Tensor, inputShapes: [[Int]], axis: Int) throws -> [Tensor] {
        let g = gradOut.scalars
        let (outer, total, inner) = Self.split(gradOut.shape, axis)
        var start = 0
        return try inputShapes.map { s in
            let n = s[axis]
            var part: [Float] = []
            part.reserveCapacity(outer * n * inner)
            for o in 0..<outer { let base = (o * total + start) * inner; part += g[base..<(base + n * inner)] }
            start += n
            return try Tensor(shape: s, scalars: part)
        }
    }

    /// Strides of the reduced (keep-dims) output as read from the input's index: 0 along reduced axes.
    static func reducedStrides(_ shape: [Int], _ axes: [Int]) -> (kept: [Int], strides: [Int], count: Int) {
        let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        let s = StridedWalk.strides(kept)
        return (kept, shape.indices.map { axes.contains($0) ? 0 : s[$0] }, axes.reduce(1) { $0 * shape[$1] })
    }

    public func reduceMean(_ x: Tensor, axes: [Int], keepDims: Bool) throws -> Tensor {
        let shape = try ShapeInference.infer(.reduceMean(axes: axes, keepDims: keepDims), [x.shape], name: "")
        let xs = x.scalars
        let (kept, rs, count) = Self.reducedStrides(x.shape, axes)
        var sums = [Double](repeating: 0, count: kept.reduce(1, *))
        StridedWalk.walk(x.shape, StridedWalk.strides(x.shape), rs) { _, i, o in sums[o] += Double(xs[i]) }
        return try Tensor(shape: shape, scalars: sums.map { Float($0 / Double(count)) })
    }

    public func reduceMeanBackward(_ gradOut: Tensor, inputShape: [Int], axes: [Int], keepDims: Bool) throws -> Tensor {
        let g = gradOut.scalars
        let (_, rs, count) = Self.reducedStrides(inputShape, axes)
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        StridedWalk.walk(inputShape, StridedWalk.strides(inputShape), rs) { _, i, o in dx[i] = g[o] / Float(count) }
        return try Tensor(shape: inputShape, scalars: dx)
    }
}
