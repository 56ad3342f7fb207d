import Foundation

/// A two-sided confidence interval `[lower, upper]`.
public struct ConfidenceInterval: Sendable, Codable, Hashable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }

    /// Whether `value` lies inside (bounds included).
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }

    /// z of a two-sided 95% normal interval: Φ⁻¹(0.975).
    public static let z95 = 1.959963984540054

    /// Wilson's score interval for a binomial proportion `successes / trials` (Wilson 1927; Newcombe 1998,
    /// method 3): the set of p whose score test at `z` does not reject. Unlike the Wald interval it stays
    /// inside [0, 1] and does not collapse to a point at 0 or n successes, which matters here: a sensitivity
    /// of 389/389 on val still leaves a lower bound near 0.99. `nil` when `trials` is 0.
    ///
    ///     p̂ = k/n,  centre = (p̂ + z²/2n) / (1 + z²/n),  half = z·√(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)
    public static func wilson(successes k: Int, trials n: Int, z: Double = z95) -> ConfidenceInterval? {
        guard n > 0, k >= 0, k <= n else { return nil }
        let (nd, p) = (Double(n), Double(k) / Double(n))
        let z2 = z * z
        let denominator = 1 + z2 / nd
        let centre = (p + z2 / (2 * nd)) / denominator
        let half = z * (p * (1 - p) / nd + z2 / (4 * nd * nd)).squareRoot() / denominator
        // The exact bounds at k = 0 and k = n are 0 and 1; rounding must not move them.
        return ConfidenceInterval(lower: k == 0 ? 0 : max(0, centre - half), upper: k == n ? 1 : min(1, centre + half))
    }
}

/// The 95% intervals of the proportions at one threshold. F1 has no closed-form interval and is left out.
public struct ProportionIntervals: Sendable, Codable, Hashable {
    /// TP / (TP + FN)
    public var sensitivity: ConfidenceInterval?
    /// TN / (TN + FP)
    public var specificity: ConfidenceInterval?
    /// TP / (TP + FP)
    public var precision: ConfidenceInterval?
    /// (TP + TN) / N
    public var accuracy: ConfidenceInterval?

    public init(_ c: ConfusionMatrix) {
        sensitivity = .wilson(successes: c.truePositives, trials: c.truePositives + c.falseNegatives)
        specificity = .wilson(successes: c.trueNegatives, trials: c.trueNegatives + c.falsePositives)
        precision = .wilson(successes: c.truePositives, trials: c.truePositives + c.falsePositives)
        accuracy = .wilson(successes: c.truePositives + c.trueNegatives,
                           trials: c.truePositives + c.trueNegatives + c.falsePositives + c.falseNegatives)
    }
}

/// The standard normal distribution's upper tail, P(Z > z) = erfc(z/√2)/2.
func normalUpperTail(_ z: Double) -> Double { erfc(z / 2.0.squareRoot()) / 2 }
