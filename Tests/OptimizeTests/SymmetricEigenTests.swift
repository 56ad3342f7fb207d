import Testing
@testable import Optimize
import NN

/// The eigensolvers against each other and against the definition (`A·v = λ·v`, `VᵀV = I`), and the
/// truncated SVD against Eckart–Young: the rank-r error is exactly the dropped singular values' energy.
@Suite struct SymmetricEigenTests {
    static func randomSymmetric(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0...i { let x = Double(rng.nextNormal()); a[i * n + j] = x; a[j * n + i] = x } }
        return a
    }

    static func randomMatrix(_ m: Int, _ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<(m * n)).map { _ in Double(rng.nextNormal()) }
    }

    /// max |A·vᵢ − λᵢ·vᵢ| and max |VᵀV − I|.
    static func residuals(_ a: [Double], _ e: SymmetricEigen) -> (eigen: Double, orthogonality: Double) {
        let n = e.n
        var worst = 0.0, ortho = 0.0
        for i in 0..<n {
            let v = Array(e.vector(i))
            for r in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + a[r * n + $1] * v[$1] }
                worst = max(worst, abs(av - e.values[i] * v[r]))
            }
            for j in 0..<n {
                let dot = zip(v, e.vector(j)).reduce(0.0) { $0 + $1.0 * $1.1 }
                ortho = max(ortho, abs(dot - (i == j ? 1 : 0)))
            }
        }
        return (worst, ortho)
    }

    @Test(arguments: [1, 2, 3, 9, 40])
    func bothSolversSatisfyTheDefinitionAndAgree(n: Int) {
        let a = Self.randomSymmetric(n, seed: UInt64(n))
        let fast = SymmetricEigen.tridiagonalQL(a, n: n), reference = SymmetricEigen.jacobi(a, n: n)
        let scale = Double(n)
        for (name, e) in [("tridiagonalQL", fast), ("jacobi", reference)] {
            let r = Self.residuals(a, e)
            #expect(r.eigen < 1e-10 * scale, "\(name) n=\(n): ‖Av − λv‖ = \(r.eigen)")
            #expect(r.orthogonality < 1e-10 * scale, "\(name) n=\(n): ‖VᵀV − I‖ = \(r.orthogonality)")
            #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 >= $1 }, "\(name): eigenvalues descending")
        }
        #expect(zip(fast.values, reference.values).allSatisfy { abs($0 - $1) < 1e-10 * scale })
    }

    @Test func repeatedEigenvaluesAndZeroMatrix() {
        // diag(2, 2, 0, 5) permuted: repeated values must still give an orthonormal basis.
        let n = 4
        var a = [Double](repeating: 0, count: n * n)
        for (i, v) in [2.0, 0, 5, 2].enumerated() { a[i * n + i] = v }
        for e in [SymmetricEigen.tridiagonalQL(a, n: n), SymmetricEigen.jacobi(a, n: n)] {
            #expect(zip(e.values, [5.0, 2, 2, 0]).allSatisfy { abs($0 - $1) < 1e-12 })
            #expect(Self.residuals(a, e).orthogonality < 1e-12)
        }
        let zero = SymmetricEigen.tridiagonalQL([Double](repeating: 0, count: 9), n: 3)
        #expect(zero.values.allSatisfy { $0 == 0 })
        #expect(Self.residuals([Double](repeating: 0, count: 9), zero).orthogonality < 1e-12)
    }

    /// Wide (`m < n`, Gram `M·Mᵀ`) and tall (`m > n`, Gram `MᵀM`) matrices: full rank reproduces M,
    /// and the rank-r error is √(Σ_{i≥r} σᵢ²) (Eckart–Young).
    @Test(arguments: [(6, 20), (20, 6), (8, 8)])
    func truncatedSVDIsExactAtFullRankAndOptimalBelow(shape: (Int, Int)) {
        let (m, n) = shape
        let matrix = Self.randomMatrix(m, n, seed: UInt64(m * 100 + n))
        let svd = TruncatedSVD(matrix, rows: m, cols: n)
        #expect(svd.fullRank == min(m, n))
        func error(rank r: Int) -> Double {
            let (b, a) = svd.factors(rank: r)
            var sum = 0.0
            for i in 0..<m { for j in 0..<n {
                let approx = (0..<r).reduce(0.0) { $0 + b[i * r + $1] * a[$1 * n + j] }
                sum += (approx - matrix[i * n + j]) * (approx - matrix[i * n + j])
            } }
            return sum.squareRoot()
        }
        let norm = matrix.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(error(rank: svd.fullRank) < 1e-10 * norm)
        for r in 1..<svd.fullRank {
            let dropped = svd.singularValues[r...].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(error(rank: r) - dropped) < 1e-9 * norm, "rank \(r)")
            #expect(abs(svd.retainedEnergy(rank: r) - (1 - dropped * dropped / (norm * norm))) < 1e-12)
        }
        #expect(svd.rank(keepingEnergy: 1) == svd.fullRank)
        #expect(svd.rank(keepingEnergy: svd.retainedEnergy(rank: 2)) == 2)
    }
}
