import GraphCore
/// F(2×2, 3×3) with the points 0, ±1, ∞:
/// `Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`, `G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]`,
/// `Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
enum WinogradF2x2: WinogradTransforms {
    typealias S = SIMD16<Float>
    static let outputTile = 2
    static let g: [Double] = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]

    /// `Bᵀ x` of four values.
    @inline(__always) static func inputLine(_ d0: S, _ d1: S, _ d2: S, _ d3: S) -> (S, S, S, S) {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }

    @inline(__always) static func input(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>,
                                        planeStride: Int, scratch s: UnsafeMutablePointer<S>) {
        // Each input row once: s = d B, row by row; then Bᵀ s, column by column, into the planes.
        for a in 0..<4 {
            let p = d + 4 * a
            let r = inputLine(load(p[0] + offset), load(p[1] + offset), load(p[2] + offset), load(p[3] + offset))
            (s[4 * a], s[4 * a + 1], s[4 * a + 2], s[4 * a + 3]) = r
        }
        for b in 0..<4 {
            let r = inputLine(s[b], s[4 + b], s[8 + b], s[12 + b])
            store(r.0, dst + b * planeStride); store(r.1, dst + (4 + b) * planeStride)
            store(r.2, dst + (8 + b) * planeStride); store(r.3, dst + (12 + b) * planeStride)
        }
    }

    /// `Aᵀ x` of four values.
    @inline(__always) static func outputLine(_ m0: S, _ m1: S, _ m2: S, _ m3: S) -> (S, S) {
        (m0 + m1 + m2, m1 - m2 - m3)
    }

    @inline(__always) static func output(_ src: UnsafePointer<Float>, planeStride: Int, scratch t: UnsafeMutablePointer<S>,
                                         put: (Int, Int, S) -> Void) {
        @inline(__always) func m(_ e: Int) -> S { load(src + e * planeStride) }
        // t = Aᵀ M (2×4), column by column; then t A, row by row.
        for b in 0..<4 { (t[b], t[4 + b]) = outputLine(m(b), m(4 + b), m(8 + b), m(12 + b)) }
        for a in 0..<2 {
            let y = outputLine(t[4 * a], t[4 * a + 1], t[4 * a + 2], t[4 * a + 3])
            put(a, 0, y.0); put(a, 1, y.1)
        }
    }

    /// `A y` of two values (`Aᵀ`'s columns): the transpose of `outputLine`.
    @inline(__always) static func gradientLine(_ y0: S, _ y1: S) -> (S, S, S, S) {
        (y0, y0 + y1, y0 - y1, -y1)
    }

    @inline(__always) static func outputGradient(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>,
                                                 planeStride: Int, scratch s: UnsafeMutablePointer<S>) {
        // s = y A (2×4), row by row; then Aᵀ s, column by column, into the planes.
        for a in 0..<2 {
            (s[4 * a], s[4 * a + 1], s[4 * a + 2], s[4 * a + 3]) = gradientLine(load(d[2 * a] + offset), load(d[2 * a + 1] + offset))
        }
        for b in 0..<4 {
            let r = gradientLine(s[b], s[4 + b])
            store(r.0, dst + b * planeStride); store(r.1, dst + (4 + b) * planeStride)
            store(r.2, dst + (8 + b) * planeStride); store(r.3, dst + (12 + b) * planeStride)
        }
    }
}
