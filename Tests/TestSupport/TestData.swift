import GraphCore

/// Seeded inputs: the same tensors on every run and every machine, so a failure names a reproducible case.
public enum TestData {
    public static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return .randomNormal(shape, std: std, using: &rng)
    }

    public static func uniform(_ shape: [Int], seed: UInt64, low: Float, high: Float) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return .randomUniform(shape, low: low, high: high, using: &rng)
    }

    /// Distinct values `gap` apart in a random order. No max-pool window holds a tie, and a
    /// finite-difference step smaller than `gap / 2` never changes which element is largest.
    public static func distinct(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let n = shape.reduce(1, *)
        let order = Array(0..<n).shuffled(using: &rng)
        return try! Tensor(shape: shape, scalars: order.map { (Float($0) - Float(n) / 2) * gap })
    }

    /// Values in [low, high) kept at least `margin` away from each kink, so that a finite-difference
    /// step below `margin` never crosses one (ReLU at 0, ReLU6 at 0 and 6).
    public static func awayFromKinks(_ shape: [Int], seed: UInt64, low: Float, high: Float, kinks: [Float],
                                     margin: Float) -> Tensor {
        let t = uniform(shape, seed: seed, low: low, high: high)
        return try! Tensor(shape: shape, scalars: t.scalars.map { v in
            var v = v
            for k in kinks where abs(v - k) < margin { v = v < k ? k - margin : k + margin }
            return v
        })
    }
}
