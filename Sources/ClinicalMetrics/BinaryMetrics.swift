/// Clinical metrics of a binary classifier (positive = pneumonia = class 1) from scores in [0, 1].
public struct ConfusionMatrix: Sendable, Hashable, Codable {
    public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

    public init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int) {
        self.truePositives = truePositives; self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives; self.falseNegatives = falseNegatives
    }

    public init(scores: [Double], labels: [Int], threshold: Double) {
        for (s, y) in zip(scores, labels) {
            switch (s >= threshold, y == 1) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, false): trueNegatives += 1
            case (false, true): falseNegatives += 1
            }
        }
    }

    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    /// Recall of the positive class: TP / (TP + FN).
    public var sensitivity: Double { Self.ratio(truePositives, truePositives + falseNegatives) }
    /// TN / (TN + FP).
    public var specificity: Double { Self.ratio(trueNegatives, trueNegatives + falsePositives) }
    /// TP / (TP + FP); 0 when nothing is predicted positive.
    public var precision: Double { Self.ratio(truePositives, truePositives + falsePositives) }
    public var f1: Double { precision + sensitivity == 0 ? 0 : 2 * precision * sensitivity / (precision + sensitivity) }
    public var accuracy: Double { Self.ratio(truePositives + trueNegatives, truePositives + trueNegatives + falsePositives + falseNegatives) }
}

/// The metrics reported at one decision threshold (`score ≥ threshold` ⇒ pneumonia).
public struct ThresholdMetrics: Sendable, Codable, Hashable {
    public let threshold: Double
    public let sensitivity: Double
    public let specificity: Double
    public let precision: Double
    public let f1: Double
    public let accuracy: Double
    public let confusion: ConfusionMatrix
    /// 95% Wilson intervals of sensitivity, specificity, precision and accuracy (absent in files written
    /// before they were reported).
    public let ci95: ProportionIntervals?

    public init(scores: [Double], labels: [Int], threshold: Double) {
        let c = ConfusionMatrix(scores: scores, labels: labels, threshold: threshold)
        self.threshold = threshold
        sensitivity = c.sensitivity; specificity = c.specificity; precision = c.precision
        f1 = c.f1; accuracy = c.accuracy; confusion = c
        ci95 = ProportionIntervals(c)
    }
}

public enum BinaryMetrics {
    /// Area under the ROC curve: the probability that a random positive scores above a random negative,
    /// ties counting one half (Mann–Whitney U with mid-ranks; equals scikit-learn's `roc_auc_score`).
    /// `nil` when a class is absent.
    public static func auc(scores: [Double], labels: [Int]) -> Double? {
        let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] == 1 { rankSum += midRank }
            i = j + 1
        }
        return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }

    /// ROC curve points (false-positive rate, true-positive rate, threshold), from (0,0) to (1,1).
    public static func rocCurve(scores: [Double], labels: [Int]) -> [(fpr: Double, tpr: Double, threshold: Double)] {
        let positives = Double(labels.filter { $0 == 1 }.count), negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(Double, Double, Double)] = [(0, 0, .infinity)]
        var (tp, fp) = (0.0, 0.0)
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            while i < order.count && scores[order[i]] == s {
                if labels[order[i]] == 1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            points.append((fp / negatives, tp / positives, s))
        }
        return points
    }

    /// The largest threshold whose sensitivity reaches `target` (so specificity is as high as that
    /// sensitivity allows): one of the observed scores. `nil` without positives.
    public static func threshold(forSensitivity target: Double, scores: [Double], labels: [Int]) -> Double? {
        let positiveScores = zip(scores, labels).filter { $0.1 == 1 }.map(\.0).sorted(by: >)
        guard !positiveScores.isEmpty else { return nil }
        // Sensitivity at threshold t is #(positive scores ≥ t) / P; the k-th largest positive score is the
        // largest threshold that keeps k positives.
        // The smallest k with k/P ≥ target (the 1e-9 absorbs rounding in target·P, e.g. 0.98·50).
        let k = min(max(Int((target * Double(positiveScores.count) - 1e-9).rounded(.up)), 1), positiveScores.count)
        return positiveScores[k - 1]
    }
}
