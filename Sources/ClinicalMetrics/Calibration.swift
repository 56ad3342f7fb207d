import Foundation

/// How well P(pneumonia) matches the observed frequency of pneumonia.
///
/// - Brier score: mean (p − y)², lower is better (0.25 is a constant ½).
/// - Expected calibration error over `bins` equal-width bins of p (the binary form: predicted P(pneumonia)
///   against the fraction of pneumonia in the bin, not the top-label confidence): Σ_b (n_b/N)·|ȳ_b − p̄_b|.
public struct Calibration: Sendable, Codable, Hashable {
    /// One bar of the reliability diagram: images whose p falls in `[lower, upper)` (the last bin includes 1).
    public struct Bin: Sendable, Codable, Hashable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// Mean predicted P(pneumonia); nil for an empty bin.
        public var mean_predicted: Double?
        /// Fraction of the bin's images that are pneumonia; nil for an empty bin.
        public var observed_rate: Double?
        /// Wilson 95% interval of `observed_rate`.
        public var observed_ci95: ConfidenceInterval?
    }

    public var brier: Double
    public var ece: Double
    public var bins: [Bin]

    public init(scores: [Double], labels: [Int], bins binCount: Int = 10) {
        precondition(scores.count == labels.count && binCount > 0)
        let n = Double(max(scores.count, 1))
        brier = zip(scores, labels).reduce(0) { $0 + ($1.0 - Double($1.1 == 1 ? 1 : 0)) * ($1.0 - Double($1.1 == 1 ? 1 : 0)) } / n
        var sums = [Double](repeating: 0, count: binCount), positives = [Int](repeating: 0, count: binCount)
        var counts = [Int](repeating: 0, count: binCount)
        for (p, y) in zip(scores, labels) {
            let b = min(max(Int(p * Double(binCount)), 0), binCount - 1)
            sums[b] += p; counts[b] += 1; positives[b] += y == 1 ? 1 : 0
        }
        bins = (0..<binCount).map { b in
            let c = counts[b]
            return Bin(lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount), count: c,
                       mean_predicted: c > 0 ? sums[b] / Double(c) : nil,
                       observed_rate: c > 0 ? Double(positives[b]) / Double(c) : nil,
                       observed_ci95: .wilson(successes: positives[b], trials: c))
        }
        ece = bins.reduce(0) { total, bin in
            guard let p = bin.mean_predicted, let y = bin.observed_rate else { return total }
            return total + Double(bin.count) / n * abs(y - p)
        }
    }
}

/// Temperature scaling (Guo et al. 2017): P(pneumonia) = σ(z / T) with z = logit₁ − logit₀, one scalar T > 0
/// fitted by maximum likelihood on held-out data (val). T > 1 softens an over-confident model. It is
/// monotone, so AUC and the ranking are unchanged; thresholds move with it, so a stored threshold is always
/// on the scale of the stored temperature.
public struct TemperatureScaling: Sendable, Codable, Hashable {
    public var temperature: Double

    public init(temperature: Double = 1) throws {
        guard temperature > 0, temperature.isFinite else {
            throw CalibrationError("temperature must be positive and finite, got \(temperature)")
        }
        self.temperature = temperature
    }

    public static let identity = try! TemperatureScaling()

    /// The logit margin z of a two-class softmax probability (clamped so that p = 0 or 1 stays finite).
    public static func margin(_ p: Double) -> Double {
        let q = min(max(p, 1e-15), 1 - 1e-15)
        return log(q / (1 - q))
    }

    /// σ(z / T) for a probability σ(z).
    public func apply(_ p: Double) -> Double {
        temperature == 1 ? p : 1 / (1 + exp(-Self.margin(p) / temperature))
    }

    public func apply(_ scores: [Double]) -> [Double] { scores.map(apply) }

    /// The maximum-likelihood temperature for `scores` (uncalibrated P(pneumonia)) and `labels`: Newton's
    /// method on β = 1/T, where the negative log-likelihood Σ log(1 + e^{−sβz}) (s = ±1 by label) is convex.
    /// Throws when one class is absent, when the scores separate the classes perfectly around ½ (β would grow
    /// without bound), or when they carry no usable information (β would shrink to 0): no finite, positive
    /// temperature is then optimal.
    public static func fit(scores: [Double], labels: [Int]) throws -> TemperatureScaling {
        guard labels.contains(1), labels.contains(where: { $0 != 1 }) else {
            throw CalibrationError("temperature scaling needs both classes in the fitting split")
        }
        let z = scores.map(margin), y = labels.map { $0 == 1 ? 1.0 : 0.0 }
        let lowestPositive = zip(z, labels).filter { $0.1 == 1 }.map(\.0).min()!
        let highestNegative = zip(z, labels).filter { $0.1 != 1 }.map(\.0).max()!
        guard highestNegative >= lowestPositive || lowestPositive <= 0 || highestNegative >= 0 else {
            throw CalibrationError("temperature scaling is undefined here: the scores separate the classes perfectly around 0.5, so the likelihood grows without bound as T → 0")
        }
        // The negative log-likelihood at β, summed: Σ log(1 + e^{−sβz}), computed without overflow.
        func loss(_ beta: Double) -> Double {
            zip(z, y).reduce(0) { total, pair in
                let m = (pair.1 == 1 ? 1 : -1) * beta * pair.0
                return total + (m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m)))
            }
        }
        // Newton steps, halved until the likelihood improves and β stays positive (a temperature is a scale,
        // not a flip of the classes): a full step can overshoot where confident mistakes make the curve flat.
        var beta = 1.0, current = loss(beta)
        for _ in 0..<200 {
            var gradient = 0.0, hessian = 0.0
            for (zi, yi) in zip(z, y) {
                let p = 1 / (1 + exp(-beta * zi))
                gradient += (p - yi) * zi
                hessian += p * (1 - p) * zi * zi
            }
            var step = hessian > 1e-300 ? gradient / hessian : gradient
            var next = beta - step, value = next > 0 ? loss(next) : .infinity
            var halvings = 0
            while !(value <= current), halvings < 60 {
                step /= 2; next = beta - step; value = next > 0 ? loss(next) : .infinity; halvings += 1
            }
            guard value <= current else { break }
            let moved = abs(beta - next)
            (beta, current) = (next, value)
            if moved < 1e-12 * max(1, beta) { break }
        }
        guard beta > 1e-6 else {
            throw CalibrationError("temperature scaling is undefined here: the scores rank the classes no better than chance at this scale, so the likelihood is best as T → ∞")
        }
        guard beta.isFinite, beta < 1e6 else {
            throw CalibrationError("temperature scaling did not converge (β = \(beta)): the scores separate the classes perfectly")
        }
        return try TemperatureScaling(temperature: 1 / beta)
    }

    /// Mean negative log-likelihood of `labels` under the scaled scores (what `fit` minimises, per image).
    public func negativeLogLikelihood(scores: [Double], labels: [Int]) -> Double {
        zip(scores, labels).reduce(0) { total, pair in
            let z = Self.margin(pair.0) / temperature
            let signed = pair.1 == 1 ? z : -z
            return total + (signed > 0 ? log1p(exp(-signed)) : -signed + log1p(exp(signed)))
        } / Double(max(scores.count, 1))
    }
}

public struct CalibrationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
