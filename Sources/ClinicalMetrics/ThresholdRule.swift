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
