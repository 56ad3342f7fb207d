/// Output shapes of each op, with errors that name the layer, the op and the offending shapes.
public enum ShapeInference {
    public static func convOutputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        // Floor division, as PyTorch: a window that does not fit gives 0 (or fewer) outputs, never 1.
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }

    public static func infer(_ op: Op, _ inputs: [[Int]], name: String) throws -> [Int] {
        let where_ = name.isEmpty ? op.kindName : "\(op.kindName) '\(name)'"
        func fail(_ message: String) -> EngineError { .shape(where_, message) }
        func expectRank(_ s: [Int], _ r: Int, _ what: String) throws {
            guard s.count == r else { throw fail("\(what) must have rank \(r), got \(describe(s))") }
        }
        switch op {
        case .input, .parameter, .buffer:
            throw EngineError.invalid(where_, "leaf nodes have no inferred shape")
        case .conv2d(let a):
            guard inputs.count == 2 || inputs.count == 3 else { throw fail("expects x, weight and an optional bias") }
            let (x, w) = (inputs[0], inputs[1])
            try expectRank(x, 4, "input"); try expectRank(w, 4, "weight")
            guard a.groups >= 1, x[1] % a.groups == 0, w[0] % a.groups == 0 else {
                throw fail("groups \(a.groups) must divide input channels \(x[1]) and output channels \(w[0])")
            }
            guard w[1] * a.groups == x[1] else {
                throw fail("weight \(describe(w)) with groups \(a.groups) expects \(w[1] * a.groups) input channels, input is \(describe(x))")
            }
            guard a.stride.h > 0, a.stride.w > 0, a.dilation.h > 0, a.dilation.w > 0, a.padding.h >= 0, a.padding.w >= 0 else {
                throw EngineError.unsupported(where_, "stride and dilation must be positive and padding non-negative")
            }
            if inputs.count == 3 { guard inputs[2] == [w[0]] else { throw fail("bias \(describe(inputs[2])) must be [\(w[0])]") } }
            let ho = convOutputSize(x[2], kernel: w[2], stride: a.stride.h, padding: a.padding.h, dilation: a.dilation.h)
            let wo = convOutputSize(x[3], kernel: w[3], stride: a.stride.w, padding: a.padding.w, dilation: a.dilation.w)
            guard ho > 0, wo > 0 else { throw fail("kernel \(w[2])×\(w[3]) does not fit input \(describe(x)) with padding \(a.padding)") }
            return [x[0], w[0], ho, wo]
        case .batchNorm2d:
            guard inputs.count == 5 else { throw fail("expects x, weight, bias, running_mean, running_var") }
            try expectRank(inputs[0], 4, "input")
            let c = inputs[0][1]
            for s in inputs[1...] where s != [c] { throw fail("per-channel tensors must be [\(c)], got \(describe(s))") }
            return inputs[0]
        case .relu, .relu6, .dropout, .activation:
            return inputs[0]
        case .maxPool2d(let a), .avgPool2d(let a):
            let x = inputs[0]
            try expectRank(x, 4, "input")
            guard a.kernel.h > 0, a.kernel.w > 0, a.stride.h > 0, a.stride.w > 0,
                  a.padding.h * 2 <= a.kernel.h, a.padding.w * 2 <= a.kernel.w else {
                throw EngineError.unsupported(where_, "kernel \(a.kernel), stride \(a.stride), padding \(a.padding): padding must be at most half the kernel")
            }
            let ho = convOutputSize(x[2], kernel: a.kernel.h, stride: a.stride.h, padding: a.padding.h, dilation: 1)
            let wo = convOutputSize(x[3], kernel: a.kernel.w, stride: a.stride.w, padding: a.padding.w, dilation: 1)
            guard ho > 0, wo > 0 else { throw fail("window \(a.kernel) does not fit input \(describe(x))") }
            return [x[0], x[1], ho, wo]
        case .globalAvgPool:
            try expectRank(inputs[0], 4, "input")
            return [inputs[0][0], inputs[0][1], 1, 1]
        case .linear:
            guard inputs.count == 2 || inputs.count == 3 else { throw fail("expects x, weight and an optional bias") }
            let (x, w) = (inputs[0], inputs[1])
            try expectRank(x, 2, "input"); try expectRank(w, 2, "weight")
            guard x[1] == w[1] else { throw fail("input \(describe(x)) does not match weight \(describe(w)) (in features \(w[1]))") }
            if inputs.count == 3 { guard inputs[2] == [w[0]] else { throw fail("bias \(describe(inputs[2])) must be [\(w[0])]") } }
            return [x[0], w[0]]
        case .add:
            guard inputs.count == 2, inputs[0] == inputs[1] else {
                throw fail("operands must have equal shapes, got \(inputs.map(describe).joined(separator: " and "))")
            }
            return inputs[0]
        case .flatten(let start):
            let x = inputs[0]
            guard start >= 0, start < x.count else { throw fail("start dim \(start) out of range for \(describe(x))") }
            return Array(x[..<start]) + [x[start...].reduce(1, *)]
        case .fakeQuantize(let q):
            guard q.scale > 0, q.scale.isFinite else { throw EngineError.unsupported(where_, "scale must be positive and finite, got \(q.scale)") }
            return inputs[0]
        case .resizeBilinear(let h, let w):
            try expectRank(inputs[0], 4, "input")
            guard h > 0, w > 0 else { throw EngineError.unsupported(where_, "target size must be positive, got \(h)×\(w)") }
            return [inputs[0][0], inputs[0][1], h, w]
        case .softmaxCrossEntropy(let weights):
            guard inputs.count == 2 else { throw fail("expects logits and labels") }
            try expectRank(inputs[0], 2, "logits")
            guard inputs[1] == [inputs[0][0]] else { throw fail("labels \(describe(inputs[1])) must be [\(inputs[0][0])] for logits \(describe(inputs[0]))") }
            if let weights, weights.count != inputs[0][1] {
                throw fail("\(weights.count) class weights for \(inputs[0][1]) classes")
            }
            return []
        case .binary:
            guard inputs.count == 2 else { throw fail("expects two operands") }
            guard let s = broadcast(inputs[0], inputs[1]) else {
                throw fail("operands \(describe(inputs[0])) and \(describe(inputs[1])) do not broadcast (trailing dims must be equal or 1)")
            }
            return s
        case .softmax(let axis):
            guard axis >= 0, axis < inputs[0].count else { throw fail("axis \(axis) out of range for \(describe(inputs[0]))") }
            return inputs[0]
        case .transpose(let perm):
            let x = inputs[0]
            guard perm.sorted() == Array(0..<x.count) else { throw fail("permutation \(perm) is not one of the \(x.count) axes of \(describe(x))") }
            return perm.map { x[$0] }
        case .pad(let a):
            let x = inputs[0]
            guard a.begin.count == x.count, a.end.count == x.count else {
                throw fail("\(a.begin.count) + \(a.end.count) pads for rank \(x.count)")
            }
            guard (a.begin + a.end).allSatisfy({ $0 >= 0 }) else { throw EngineError.unsupported(where_, "negative pads \(a.begin) \(a.end) (cropping)") }
            if a.mode == .reflect {
                for i in x.indices where (a.begin[i] > 0 || a.end[i] > 0) && (a.begin[i] >= x[i] || a.end[i] >= x[i]) {
                    throw fail("reflect pads \(a.begin[i]), \(a.end[i]) of axis \(i) must be below its size \(x[i])")
                }
            }
            if a.mode == .edge {
                for i in x.indices where x[i] == 0 && (a.begin[i] > 0 || a.end[i] > 0) { throw fail("edge padding of an empty axis \(i)") }
            }
            return x.indices.map { x[$0] + a.begin[$0] + a.end[$0] }
        case .concat(let axis):
            guard let first = inputs.first else { throw fail("expects at least one input") }
            guard axis >= 0, axis < first.count else { throw fail("axis \(axis) out of range for \(describe(first))") }
            var out = first
            for s in inputs.dropFirst() {
                guard s.count == first.count, s.indices.allSatisfy({ $0 == axis || s[$0] == first[$0] }) else {
                    throw fail("inputs \(inputs.map(describe).joined(separator: ", ")) differ outside axis \(axis)")
                }
                out[axis] += s[axis]
            }
            return out
        case .reduceMean(let axes, let keepDims):
            let x = inputs[0]
            guard !axes.isEmpty, axes == Array(Set(axes)).sorted(), axes.allSatisfy({ $0 >= 0 && $0 < x.count }) else {
                throw fail("axes \(axes) must be distinct, ascending axes of \(describe(x))")
            }
            guard axes.allSatisfy({ x[$0] > 0 }) else { throw fail("mean over an empty axis of \(describe(x))") }
            return keepDims ? x.indices.map { axes.contains($0) ? 1 : x[$0] } : x.indices.filter { !axes.contains($0) }.map { x[$0] }
        }
    }

    /// NumPy's broadcast of two shapes: aligned at the right, each pair of dims equal or one of them 1 (nil otherwise).
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)], db = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            out[i] = da == 1 ? db : da
        }
        return out
    }
}
