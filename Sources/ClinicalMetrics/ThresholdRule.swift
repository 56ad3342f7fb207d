/// How the operating threshold is chosen on the val split for a target sensitivity.
public enum ThresholdRule: String, Sendable, Codable, CaseIterable {
    /// The largest threshold whose val sensitivity reaches the target.
    case valSensitivity = "val-sensitivity"
    /// The largest threshold whose lower 95% Wilson bound of val sensitivity reaches the target: the target
    /// is then met with 95% confidence on val's positives rather than only on their point estimate, a margin
    /// for a sensitivity measured on a few hundred positives.
    case wilsonLowerBound = "wilson-lower-bound"

    /// The threshold this rule picks (one of the positives' scores), or nil without positives or when no
    /// threshold can satisfy it (the Wilson bound at n/n is below the target when there are too few positives).
    public func threshold(forSensitivity target: Double, scores: [Double], labels: [Int]) -> Double? {
        switch self {
        case .valSensitivity:
            return BinaryMetrics.threshold(forSensitivity: target, scores: scores, labels: labels)
        case .wilsonLowerBound:
            let positives = zip(scores, labels).filter { $0.1 == 1 }.map(\.0).sorted(by: >)
            // Keeping the k highest-scoring positives (threshold = the k-th score) gives k/P; the lower bound
            // grows with k, so the smallest k that reaches the target is the largest threshold.
            for k in stride(from: 1, through: positives.count, by: 1) {
                // Ties: a threshold keeps every positive with the same score, so skip to the last of a run.
                if k < positives.count, positives[k] == positives[k - 1] { continue }
                if let bound = ConfidenceInterval.wilson(successes: k, trials: positives.count)?.lower, bound >= target {
                    return positives[k - 1]
                }
            }
            return nil
        }
    }

    /// The fewest val positives with which this rule can choose a threshold for `target` at all, or nil where no
    /// count suffices (a target outside (0, 1), or 1 under the Wilson bound, which stays below 1). Catching every
    /// positive gives the Wilson bound its highest value, n / (n + z²), which reaches 0.98 from 189 positives.
    public func minimumPositives(forSensitivity target: Double) -> Int? {
        guard target > 0, target <= 1 else { return nil }
        switch self {
        case .valSensitivity:
            return 1
        case .wilsonLowerBound:
            guard target < 1 else { return nil }
            let z2 = ConfidenceInterval.z95 * ConfidenceInterval.z95
            var n = max(1, Int((target * z2 / (1 - target)).rounded(.down)))
            // The closed form may sit one off the computed bound by rounding; the bound itself decides.
            while n > 1, let lower = ConfidenceInterval.wilson(successes: n - 1, trials: n - 1)?.lower, lower >= target { n -= 1 }
            while let lower = ConfidenceInterval.wilson(successes: n, trials: n)?.lower, lower < target { n += 1 }
            return n
        }
    }

    /// Why this rule cannot choose a threshold for `target` on a split with `positives` positive cases (nil when it
    /// can try): said before any training, so that a run too small for its rule stops at once, not after its models.
    public func shortfall(forSensitivity target: Double, positives: Int, split: String) -> String? {
        guard let needed = minimumPositives(forSensitivity: target) else {
            return "threshold rule \(rawValue) cannot reach sensitivity \(target) with any number of cases"
        }
        guard positives < needed else { return nil }
        switch self {
        case .valSensitivity:
            return "the \(split) split has no pneumonia cases to choose a threshold on"
        case .wilsonLowerBound:
            return "threshold rule \(rawValue) needs at least \(needed) pneumonia cases in the \(split) split for sensitivity "
                + "\(target) (the 95% lower bound of \(positives)/\(positives) is below it), and it has \(positives): "
                + "give it more images, or choose on the point estimate (threshold rule val-sensitivity)"
        }
    }

    /// A sentence for reports.
    public var explanation: String {
        switch self {
        case .valSensitivity: "the largest threshold whose val sensitivity reaches the target"
        case .wilsonLowerBound: "the largest threshold whose 95% Wilson lower bound of val sensitivity reaches the target"
        }
    }

    /// Where this rule departs from the spec, which asks that the sensitivity reach the target (its point
    /// estimate): nil for `valSensitivity`, which does just that.
    public var specDifference: String? {
        switch self {
        case .valSensitivity: nil
        case .wilsonLowerBound:
            "threshold rule wilson-lower-bound: the target must hold for the lower 95% bound of val sensitivity, stricter than the spec's point estimate (--threshold-rule val-sensitivity)"
        }
    }
}
