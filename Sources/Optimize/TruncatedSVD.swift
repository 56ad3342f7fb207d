/// The truncated SVD of an `m×n` matrix, computed from the eigen-decomposition of its smaller Gram
/// matrix in double precision: `M = U·Σ·Vᵀ`, `M·Mᵀ = U·Σ²·Uᵀ` (or `MᵀM = V·Σ²·Vᵀ` when `m > n`).
///
/// `factors(rank:)` gives `M ≈ B·A` with `B` `m×r` and `A` `r×n`, the best rank-r approximation in the
/// Frobenius norm (Eckart–Young), balanced so that column i of B and row i of A both have norm √σᵢ.
/// It projects M onto the top singular subspace (`U_r·U_rᵀ·M`), so at full rank (`r = min(m, n)`) it
/// reproduces M up to float rounding whatever the eigensolver's accuracy on small singular values.
public struct TruncatedSVD: Sendable {
    public let rows: Int
    public let cols: Int
    /// Singular values σᵢ, descending (`min(m, n)` of them).
    public let singularValues: [Double]
    private let matrix: [Double]
    private let eigen: SymmetricEigen
    /// True when the Gram matrix was `M·Mᵀ` (its eigenvectors are left singular vectors).
    private let left: Bool

    /// `matrix` is row-major `rows×cols`.
    public init(_ matrix: [Double], rows: Int, cols: Int) {
        precondition(matrix.count == rows * cols)
        self.rows = rows; self.cols = cols; self.matrix = matrix
        let isLeft = rows <= cols
        left = isLeft
        let (k, len) = isLeft ? (rows, cols) : (cols, rows)
        var gram = [Double](repeating: 0, count: k * k)
        matrix.withUnsafeBufferPointer { m in
            if isLeft {
                // (M·Mᵀ)[i][j] = row i · row j: contiguous dot products.
                for i in 0..<k {
                    for j in 0...i {
                        var s = 0.0
                        let a = m.baseAddress! + i * len, b = m.baseAddress! + j * len
                        for t in 0..<len { s += a[t] * b[t] }
                        gram[i * k + j] = s; gram[j * k + i] = s
                    }
                }
            } else {
                // (MᵀM) accumulated row by row of M.
                for r in 0..<len {
                    let row = m.baseAddress! + r * k
                    for i in 0..<k {
                        let x = row[i]
                        if x == 0 { continue }
                        for j in 0...i { gram[i * k + j] += x * row[j] }
                    }
                }
                for i in 0..<k { for j in 0..<i { gram[j * k + i] = gram[i * k + j] } }
            }
        }
        eigen = SymmetricEigen.decompose(gram, n: k)
        singularValues = eigen.values.map { max($0, 0).squareRoot() }
    }

    /// Full rank: `min(rows, cols)`.
    public var fullRank: Int { min(rows, cols) }

    /// Fraction of `‖M‖²_F` the best rank-r approximation keeps: `Σ_{i<r} σᵢ² / Σ σᵢ²`.
    public func retainedEnergy(rank r: Int) -> Double {
        let energy = singularValues.map { $0 * $0 }
        let total = energy.reduce(0, +)
        return total == 0 ? 1 : energy.prefix(r).reduce(0, +) / total
    }

    /// The smallest rank that keeps at least `fraction` of `‖M‖²_F`.
    public func rank(keepingEnergy fraction: Double) -> Int {
        for r in 1...max(fullRank, 1) where retainedEnergy(rank: r) >= fraction - 1e-12 { return r }
        return fullRank
    }

    /// `M ≈ B·A`: `b` row-major `rows×r`, `a` row-major `r×cols`.
    public func factors(rank requested: Int) -> (b: [Double], a: [Double]) {
        let r = max(1, min(requested, fullRank))
        let (m, n) = (rows, cols)
        let k = eigen.n
        var b = [Double](repeating: 0, count: m * r), a = [Double](repeating: 0, count: r * n)
        for i in 0..<r {
            let sigma = singularValues[i]
            // Balance √σ on each side; a zero singular value contributes nothing either way.
            let root = sigma > 0 ? sigma.squareRoot() : 1
            let u = eigen.vector(i)   // length k
            if left {
                // B[:, i] = uᵢ·√σ, A[i, :] = uᵢᵀM / √σ.
                for row in 0..<m { b[row * r + i] = u[u.startIndex + row] * root }
                for row in 0..<k {
                    let coefficient = u[u.startIndex + row] / root
                    if coefficient == 0 { continue }
                    for col in 0..<n { a[i * n + col] += coefficient * matrix[row * n + col] }
                }
            } else {
                // A[i, :] = vᵢᵀ·√σ, B[:, i] = M·vᵢ / √σ.
                for col in 0..<n { a[i * n + col] = u[u.startIndex + col] * root }
                for row in 0..<m {
                    var s = 0.0
                    for col in 0..<n { s += matrix[row * n + col] * u[u.startIndex + col] }
                    b[row * r + i] = s / root
                }
            }
        }
        return (b, a)
    }
}
