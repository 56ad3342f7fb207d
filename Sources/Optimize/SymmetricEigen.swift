import Foundation

/// Eigen-decomposition of a real symmetric matrix in double precision: `A = V·diag(λ)·Vᵀ`, eigenvalues in
/// descending order, eigenvectors as the rows of `vectors` (row `i` belongs to `values[i]`).
///
/// Two solvers, one the reference of the other (STYLE 1):
/// - `jacobi`: cyclic Jacobi rotations. Obviously correct, O(n³) per sweep, 6–10 sweeps: for small
///   matrices and tests.
/// - `tridiagonalQL` (the fast path, `decompose`): Householder reduction to tridiagonal form and the
///   implicit QL method (EISPACK's `tred2`/`tql2`, as in JAMA), ~5n³ flops in all: a 512×512 Gram matrix
///   of ResNet-18's last stage in well under a second.
public struct SymmetricEigen: Sendable {
    public var values: [Double]
    /// `n·n`, row-major; row `i` is the unit eigenvector of `values[i]`.
    public var vectors: [Double]
    public var n: Int { values.count }

    public func vector(_ i: Int) -> ArraySlice<Double> { vectors[(i * n)..<((i + 1) * n)] }

    /// The fast path.
    public static func decompose(_ a: [Double], n: Int) -> SymmetricEigen { tridiagonalQL(a, n: n) }

    /// Cyclic Jacobi: rotate away each off-diagonal element in turn until the off-diagonal mass is below
    /// 1e-15 of the matrix's. `a` is `n·n` row-major and must be symmetric.
    public static func jacobi(_ a: [Double], n: Int, maxSweeps: Int = 64) -> SymmetricEigen {
        precondition(a.count == n * n)
        var m = a
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = m.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<maxSweeps {
            var off = 0.0
            for p in 0..<n { for q in 0..<n where p != q { off += m[p * n + q] * m[p * n + q] } }
            if off <= 1e-30 * total || off == 0 { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = m[p * n + q]
                    if apq == 0 { continue }
                    // Zero a'pq of JᵀAJ, J = [[c, s], [−s, c]] in rows/columns p, q: the smaller root of
                    // t² + 2θt − 1 = 0, θ = (aqq − app)/(2apq), keeps the rotation below 45°.
                    let theta = (m[q * n + q] - m[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {   // A ← A·J
                        let (akp, akq) = (m[k * n + p], m[k * n + q])
                        m[k * n + p] = c * akp - s * akq
                        m[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {   // A ← Jᵀ·A
                        let (apk, aqk) = (m[p * n + k], m[q * n + k])
                        m[p * n + k] = c * apk - s * aqk
                        m[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {   // V ← V·J (columns are eigenvectors)
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let diagonal = (0..<n).map { m[$0 * n + $0] }
        return sorted(values: diagonal) { i, k in v[k * n + i] }
    }

    /// Householder tridiagonalisation then implicit QL with Wilkinson shifts (`tred2` + `tql2`).
    public static func tridiagonalQL(_ a: [Double], n: Int) -> SymmetricEigen {
        precondition(a.count == n * n)
        if n == 0 { return SymmetricEigen(values: [], vectors: []) }
        if n == 1 { return SymmetricEigen(values: [a[0]], vectors: [1]) }
        // V[i][j] = v[i·n + j]; after tred2 it holds the orthogonal reduction Q (A = Q·T·Qᵀ).
        var v = a
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        // tred2
        for j in 0..<n { d[j] = v[(n - 1) * n + j] }
        for i in stride(from: n - 1, to: 0, by: -1) {
            var scale = 0.0, h = 0.0
            for k in 0..<i { scale += abs(d[k]) }
            if scale == 0 {
                e[i] = d[i - 1]
                for j in 0..<i {
                    d[j] = v[(i - 1) * n + j]
                    v[i * n + j] = 0
                    v[j * n + i] = 0
                }
            } else {
                for k in 0..<i { d[k] /= scale; h += d[k] * d[k] }
                var f = d[i - 1]
                var g = h.squareRoot()
                if f > 0 { g = -g }
                e[i] = scale * g
                h -= f * g
                d[i - 1] = f - g
                for j in 0..<i { e[j] = 0 }
                for j in 0..<i {
                    f = d[j]
                    v[j * n + i] = f
                    g = e[j] + v[j * n + j] * f
                    if j + 1 <= i - 1 {
                        for k in (j + 1)...(i - 1) {
                            g += v[k * n + j] * d[k]
                            e[k] += v[k * n + j] * f
                        }
                    }
                    e[j] = g
                }
                f = 0
                for j in 0..<i { e[j] /= h; f += e[j] * d[j] }
                let hh = f / (h + h)
                for j in 0..<i { e[j] -= hh * d[j] }
                for j in 0..<i {
                    f = d[j]; g = e[j]
                    for k in j...(i - 1) { v[k * n + j] -= f * e[k] + g * d[k] }
                    d[j] = v[(i - 1) * n + j]
                    v[i * n + j] = 0
                }
            }
            d[i] = h
        }
        for i in 0..<(n - 1) {
            v[(n - 1) * n + i] = v[i * n + i]
            v[i * n + i] = 1
            let h = d[i + 1]
            if h != 0 {
                for k in 0...i { d[k] = v[k * n + i + 1] / h }
                for j in 0...i {
                    var g = 0.0
                    for k in 0...i { g += v[k * n + i + 1] * v[k * n + j] }
                    for k in 0...i { v[k * n + j] -= g * d[k] }
                }
            }
            for k in 0...i { v[k * n + i + 1] = 0 }
        }
        for j in 0..<n { d[j] = v[(n - 1) * n + j]; v[(n - 1) * n + j] = 0 }
        v[(n - 1) * n + (n - 1)] = 1
        e[0] = 0

        // tql2, on Vᵀ so that the rotations touch contiguous rows (column i of V is row i of w).
        var w = [Double](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0..<n { w[c * n + r] = v[r * n + c] } }
        for i in 1..<n { e[i - 1] = e[i] }
        e[n - 1] = 0
        var f = 0.0, tst1 = 0.0
        let eps = Double.ulpOfOne
        for l in 0..<n {
            tst1 = max(tst1, abs(d[l]) + abs(e[l]))
            var m = l
            while m < n - 1 && abs(e[m]) > eps * tst1 { m += 1 }
            if m > l {
                var iterations = 0
                repeat {
                    iterations += 1
                    var g = d[l]
                    var p = (d[l + 1] - g) / (2 * e[l])
                    var r = hypot(p, 1)
                    if p < 0 { r = -r }
                    d[l] = e[l] / (p + r)
                    d[l + 1] = e[l] * (p + r)
                    let dl1 = d[l + 1]
                    var h = g - d[l]
                    if l + 2 < n { for i in (l + 2)..<n { d[i] -= h } }
                    f += h
                    p = d[m]
                    var c = 1.0, c2 = c, c3 = c
                    let el1 = e[l + 1]
                    var s = 0.0, s2 = 0.0
                    for i in stride(from: m - 1, through: l, by: -1) {
                        c3 = c2; c2 = c; s2 = s
                        g = c * e[i]
                        h = c * p
                        r = hypot(p, e[i])
                        e[i + 1] = s * r
                        s = e[i] / r
                        c = p / r
                        p = c * d[i] - s * g
                        d[i + 1] = h + s * (c * g + s * d[i])
                        w.withUnsafeMutableBufferPointer { wp in
                            let a = wp.baseAddress! + i * n, b = a + n
                            for k in 0..<n {
                                let hk = b[k]
                                b[k] = s * a[k] + c * hk
                                a[k] = c * a[k] - s * hk
                            }
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1
                    e[l] = s * p
                    d[l] = c * p
                } while abs(e[l]) > eps * tst1 && iterations < 100
            }
            d[l] += f
            e[l] = 0
        }
        return sorted(values: d) { i, k in w[i * n + k] }
    }

    /// Sorts eigenpairs by descending eigenvalue; `component(i, k)` is element k of eigenvector i.
    private static func sorted(values: [Double], component: (Int, Int) -> Double) -> SymmetricEigen {
        let n = values.count
        let order = values.indices.sorted { values[$0] > values[$1] }
        var vectors = [Double](repeating: 0, count: n * n)
        for (row, i) in order.enumerated() { for k in 0..<n { vectors[row * n + k] = component(i, k) } }
        return SymmetricEigen(values: order.map { values[$0] }, vectors: vectors)
    }
}
