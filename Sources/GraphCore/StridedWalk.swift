/// Row-major element strides, and walks over a shape that visit each element with its offsets into two strided
/// tensors: how the reference broadcasts (stride 0 along a broadcast axis), transposes (permuted strides) and reduces.
public enum StridedWalk {
    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
        return s
    }

    /// `shape`'s strides as read through a broadcast to `rank` dims of `target`: aligned at the right, 0 where the
    /// axis is missing or broadcast (size 1 against a larger target).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape), lead = target.count - shape.count
        return target.indices.map { i in i < lead || (shape[i - lead] == 1 && target[i] != 1) ? 0 : own[i - lead] }
    }

    /// Calls `body(k, o0, o1)` for each element k (row-major) of `shape`, with offsets o0 = Σ idxᵢ·s0ᵢ and o1 = Σ idxᵢ·s1ᵢ.
    public static func walk(_ shape: [Int], _ s0: [Int], _ s1: [Int], _ body: (Int, Int, Int) -> Void) {
        let r = shape.count
        if shape.contains(0) { return }
        if r == 0 { body(0, 0, 0); return }
        var idx = [Int](repeating: 0, count: r)
        let (inner, i0, i1) = (shape[r - 1], s0[r - 1], s1[r - 1])
        var (o0, o1, k) = (0, 0, 0)
        while true {
            for j in 0..<inner { body(k + j, o0 + j * i0, o1 + j * i1) }
            k += inner
            var d = r - 2
            while d >= 0 {
                idx[d] += 1; o0 += s0[d]; o1 += s1[d]
                if idx[d] < shape[d] { break }
                o0 -= s0[d] * shape[d]; o1 -= s1[d] * shape[d]; idx[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
