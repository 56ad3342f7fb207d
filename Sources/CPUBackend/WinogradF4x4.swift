import GraphCore
/// F(4×4, 3×3) with Lavin and Gray's points 0, ±1, ±2, ∞ (±½ measured no more accurate in float32):
/// ```
/// Bᵀ = [[4,  0, -5,  0, 1, 0],    G = [[ 1/4,     0,    0],    Aᵀ = [[1, 1,  1, 1,  1, 0],
///       [0, -4, -4,  1, 1, 0],         [-1/6, -1/6, -1/6],          [0, 1, -1, 2, -2, 0],
///       [0,  4, -4, -1, 1, 0],         [-1/6,  1/6, -1/6],          [0, 1,  1, 4,  4, 0],
///       [0, -2, -1,  2, 1, 0],         [1/24, 1/12,  1/6],          [0, 1, -1, 8, -8, 1]]
///       [0,  2, -1, -2, 1, 0],         [1/24, -1/12, 1/6],
///       [0,  4,  0, -5, 0, 1]]         [   0,    0,    1]]
/// ```
enum WinogradF4x4: WinogradTransforms {
    typealias S = SIMD16<Float>
    static let outputTile = 4
    static let g: [Double] = [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                              1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1]

    /// `Bᵀ x` of six values, 17 operations: the rows share `d4 - d2`, `d3 - d1` and the 4/−5 pairs.
    @inline(__always) static func inputLine(_ d0: S, _ d1: S, _ d2: S, _ d3: S, _ d4: S, _ d5: S) -> (S, S, S, S, S, S) {
        let e = d4 - d2, o = d3 - d1
        let p = d4 - 4 * d2, q = d3 - 4 * d1
        let o2 = 2 * o
        return (4 * (d0 - d2) + e, p + q, p - q, e + o2, e - o2, (d5 - d3) - 4 * o)
    }

    @inline(__always) static func input(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>,
                                        planeStride: Int, scratch s: UnsafeMutablePointer<S>) {
        // Each input row once: s = d B, row by row; then Bᵀ s, column by column, into the planes.
        for a in 0..<6 {
            let p = d + 6 * a
            let r = inputLine(load(p[0] + offset), load(p[1] + offset), load(p[2] + offset), load(p[3] + offset),
                              load(p[4] + offset), load(p[5] + offset))
            (s[6 * a], s[6 * a + 1], s[6 * a + 2], s[6 * a + 3], s[6 * a + 4], s[6 * a + 5]) = r
        }
        for b in 0..<6 {
            let r = inputLine(s[b], s[6 + b], s[12 + b], s[18 + b], s[24 + b], s[30 + b])
            store(r.0, dst + b * planeStride); store(r.1, dst + (6 + b) * planeStride); store(r.2, dst + (12 + b) * planeStride)
            store(r.3, dst + (18 + b) * planeStride); store(r.4, dst + (24 + b) * planeStride); store(r.5, dst + (30 + b) * planeStride)
        }
    }

    /// `Aᵀ x` of six values, 13 operations.
    @inline(__always) static func outputLine(_ m0: S, _ m1: S, _ m2: S, _ m3: S, _ m4: S, _ m5: S) -> (S, S, S, S) {
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        return (m0 + s12 + s34, d12 + 2 * d34, s12 + 4 * s34, (d12 + m5) + 8 * d34)
    }

    @inline(__always) static func output(_ src: UnsafePointer<Float>, planeStride: Int, scratch t: UnsafeMutablePointer<S>,
                                         put: (Int, Int, S) -> Void) {
        @inline(__always) func m(_ e: Int) -> S { load(src + e * planeStride) }
        // t = Aᵀ M (4×6), column by column; then t A, row by row.
        for b in 0..<6 {
            (t[b], t[6 + b], t[12 + b], t[18 + b]) = outputLine(m(b), m(6 + b), m(12 + b), m(18 + b), m(24 + b), m(30 + b))
        }
        for a in 0..<4 {
            let y = outputLine(t[6 * a], t[6 * a + 1], t[6 * a + 2], t[6 * a + 3], t[6 * a + 4], t[6 * a + 5])
            put(a, 0, y.0); put(a, 1, y.1); put(a, 2, y.2); put(a, 3, y.3)
        }
    }

    /// `A y` of four values (`Aᵀ`'s columns), 10 operations: the transpose of `outputLine`.
    @inline(__always) static func gradientLine(_ y0: S, _ y1: S, _ y2: S, _ y3: S) -> (S, S, S, S, S, S) {
        let s02 = y0 + y2, s13 = y1 + y3, p = y0 + 4 * y2, q = 2 * y1 + 8 * y3
        return (y0, s02 + s13, s02 - s13, p + q, p - q, y3)
    }

    @inline(__always) static func outputGradient(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>,
                                                 planeStride: Int, scratch s: UnsafeMutablePointer<S>) {
        // s = y A (4×6), row by row; then Aᵀ s, column by column, into the planes.
        for a in 0..<4 {
            let p = d + 4 * a
            (s[6 * a], s[6 * a + 1], s[6 * a + 2], s[6 * a + 3], s[6 * a + 4], s[6 * a + 5]) =
                gradientLine(load(p[0] + offset), load(p[1] + offset), load(p[2] + offset), load(p[3] + offset))
        }
        for b in 0..<6 {
            let r = gradientLine(s[b], s[6 + b], s[12 + b], s[18 + b])
            store(r.0, dst + b * planeStride); store(r.1, dst + (6 + b) * planeStride); store(r.2, dst + (12 + b) * planeStride)
            store(r.3, dst + (18 + b) * planeStride); store(r.4, dst + (24 + b) * planeStride); store(r.5, dst + (30 + b) * planeStride)
        }
    }
}
