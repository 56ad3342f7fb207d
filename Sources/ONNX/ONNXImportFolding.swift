import GraphCore

// Integer tensors known at import, evaluated here: what torch's TorchScript exporter writes to turn `F.pad`'s
// (last axis first, begin/end pairs) padding into ONNX's pads — ConstantOfShape, Concat, Reshape to [-1, 2], Slice
// with step −1, Transpose, Reshape to [-1], Cast — before the Pad reads them. Only all-known integer inputs are
// folded (the batch size is not known); anything else takes the op's ordinary translation.

extension ImportTranslator {
    /// Elements a folded integer tensor may have (padding and shape vectors have a handful).
    static let maxFoldedElements = 4096

    /// `name`'s value as a known integer tensor: an integer constant, or shape arithmetic without the batch.
    func knownIntegerTensor(_ name: String) -> ConstantTensor? {
        switch values[name] {
        case .constant(let c, _)? where c.ints != nil: return c
        case .shape(let v, let scalar)?:
            var ints: [Int64] = []
            for s in v { guard case .known(let k) = s else { return nil }; ints.append(k) }
            return ConstantTensor(shape: scalar ? [] : [ints.count], values: .ints(ints), elementType: .int64)
        default: return nil
        }
    }

    /// Evaluates `n` when it is one of the folded ops and its data inputs are known integers; false leaves it to `translate`.
    func foldIntegers(_ n: Onnx_NodeProto, _ a: Attributes, _ ctx: String) throws -> Bool {
        func input(_ k: Int) -> String? { k < n.input.count && !n.input[k].isEmpty ? n.input[k] : nil }
        let out = n.output[0]
        switch n.opType {
        case "ConstantOfShape":
            guard let dims = knownIntegerTensor(n.input[0]), dims.shape.count == 1 else { return false }
            let shape = try dims.ints!.map { d -> Int in
                guard d >= 0, d <= Int64(Self.maxFoldedElements) else { throw ONNXError(.unsupported, ctx, "ConstantOfShape dimension \(d)") }
                return Int(d)
            }
            guard let count = checkedCount(shape, limit: Self.maxFoldedElements) else {
                throw ONNXError(.unsupported, ctx, "ConstantOfShape of shape \(shape); at most \(Self.maxFoldedElements) are evaluated at import")
            }
            var fill = ConstantTensor(shape: [1], values: .floats([0]), elementType: .float)
            if let t = try a.tensor("value") {
                try checkFieldTypes(t, ctx)
                fill = try decoder.decode(t, ctx)
                guard fill.count == 1 else { throw ONNXError(.invalidGraph, ctx, "value must hold one element, it holds \(fill.count)") }
            }
            let values: ConstantTensor.Values = fill.ints.map { .ints(Array(repeating: $0[0], count: count)) }
                ?? .floats(Array(repeating: fill.floats![0], count: count))
            setConstant(out, ConstantTensor(shape: shape, values: values, elementType: fill.elementType))
        case "Reshape":
            guard let data = knownIntegerTensor(n.input[0]), data.count <= Self.maxFoldedElements,
                  let target = knownIntegerTensor(n.input[1])?.ints, target.count <= 64 else { return false }
            var shape: [Int] = []
            var inferred: Int?
            let allowZero = try a.int("allowzero") ?? 0 != 0
            for (i, t) in target.enumerated() {
                if t == -1 && inferred == nil { inferred = i; shape.append(1) }
                else if t == 0 && !allowZero && i < data.shape.count { shape.append(data.shape[i]) }
                else if t >= 0 && t <= Int64(Self.maxFoldedElements) { shape.append(Int(t)) }
                else { throw ONNXError(.invalidGraph, ctx, "Reshape target \(target) of an integer tensor \(data.shape)") }
            }
            guard let known = checkedCount(shape, limit: Self.maxFoldedElements) else {
                throw ONNXError(.invalidGraph, ctx, "Reshape target \(target) of an integer tensor \(data.shape)")
            }
            if let i = inferred, known > 0 { shape[i] = data.count / known }
            guard shape.reduce(1, *) == data.count else {
                throw ONNXError(.invalidGraph, ctx, "cannot reshape \(data.count) integers \(data.shape) to \(target)")
            }
            setConstant(out, ConstantTensor(shape: shape, values: data.values, elementType: data.elementType))
        case "Transpose":
            guard let data = knownIntegerTensor(n.input[0]), let ints = data.ints, data.count <= Self.maxFoldedElements else { return false }
            let rank = data.shape.count
            let perm = try a.ints("perm", count: rank) ?? Array((0..<rank).reversed())
            guard perm.sorted() == Array(0..<rank) else { throw ONNXError(.invalidGraph, ctx, "perm \(perm) for rank \(rank)") }
            let x = try Tensor(shape: data.shape, scalars: ints.map { Float($0) })   // ≤ 4096 integers of shape vectors: exact
            guard ints.allSatisfy({ abs($0) < 1 << 24 }) else { throw ONNXError(.unsupported, ctx, "integers beyond 2^24 in a folded Transpose") }
            let y = try ReferenceBackend().transpose(x, permutation: perm)
            setConstant(out, ConstantTensor(shape: y.shape, values: .ints(y.scalars.map { Int64($0) }), elementType: data.elementType))
        case "Slice":
            guard let data = knownIntegerTensor(n.input[0]), let ints = data.ints, !data.shape.isEmpty, data.count <= Self.maxFoldedElements,
                  let startValues = knownIntegerTensor(n.input[1])?.ints, let endValues = knownIntegerTensor(n.input[2])?.ints else { return false }
            let rank = data.shape.count
            // INT64_MIN + 1 and INT64_MAX stand for "to the end" (torch writes them): clamped, they still are.
            let bound: Int64 = 1 << 40
            let starts = startValues.map { Int(min(max($0, -bound), bound)) }, ends = endValues.map { Int(min(max($0, -bound), bound)) }
            let axes = try input(3).map { try knownInts($0, ctx) } ?? Array(0..<starts.count)
            let steps = try input(4).map { try knownInts($0, ctx) } ?? Array(repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, steps.allSatisfy({ $0 != 0 }) else {
                throw ONNXError(.invalidGraph, ctx, "starts \(starts), ends \(ends), axes \(axes), steps \(steps) do not match")
            }
            // Per axis, the indices taken (ONNX's clamping rules for positive and negative steps).
            var picked = data.shape.map { Array(0..<$0) }
            for (k, axisValue) in axes.enumerated() {
                guard axisValue >= -rank, axisValue < rank else { throw ONNXError(.invalidGraph, ctx, "axis \(axisValue) for rank \(rank)") }
                let axis = axisValue < 0 ? axisValue + rank : axisValue
                let size = data.shape[axis], step = steps[k]
                func resolve(_ v: Int) -> Int { v < 0 ? v + size : v }
                var idx: [Int] = []
                if step > 0 {
                    var i = min(max(resolve(starts[k]), 0), size)
                    let e = min(max(resolve(ends[k]), 0), size)
                    while i < e { idx.append(i); i += step }
                } else {
                    var i = min(max(resolve(starts[k]), 0), size - 1)
                    let e = min(max(resolve(ends[k]), -1), size - 1)
                    while i > e { idx.append(i); i += step }
                }
                picked[axis] = idx
            }
            let strides = data.shape.indices.map { data.shape[($0 + 1)...].reduce(1, *) }
            var result: [Int64] = []
            func gather(_ d: Int, _ offset: Int) {
                if d == rank { result.append(ints[offset]); return }
                for i in picked[d] { gather(d + 1, offset + i * strides[d]) }
            }
            gather(0, 0)
            setConstant(out, ConstantTensor(shape: picked.map(\.count), values: .ints(result), elementType: data.elementType))
        default:
            return false
        }
        return true
    }

    private func setConstant(_ name: String, _ c: ConstantTensor) { values[name] = .constant(c, name: name) }
}
