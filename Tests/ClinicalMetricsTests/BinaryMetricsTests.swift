import Testing
@testable import ClinicalMetrics

/// Expected values computed by hand (and, for AUC, equal to scikit-learn's `roc_auc_score` on the same
/// arrays). Exact arithmetic on small counts: tolerance 1e-12.
@Suite struct BinaryMetricsTests {
    let scores: [Double] = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2]
    let labels = [1, 1, 0, 1, 0, 1, 0, 0]

    @Test func confusionAndRatesAtThreshold() {
        let m = ThresholdMetrics(scores: scores, labels: labels, threshold: 0.5)
        #expect(m.confusion == ConfusionMatrix(truePositives: 3, falsePositives: 2, trueNegatives: 2, falseNegatives: 1))
        #expect(abs(m.sensitivity - 0.75) < 1e-12)
        #expect(abs(m.specificity - 0.5) < 1e-12)
        #expect(abs(m.precision - 0.6) < 1e-12)
        #expect(abs(m.f1 - 2 * 0.6 * 0.75 / 1.35) < 1e-12)
        #expect(abs(m.accuracy - 5.0 / 8) < 1e-12)
    }

    @Test func aucCountsPairsAndTies() {
        // Positive–negative pairs ranked correctly: 4 + 4 + 3 + 2 = 13 of 16.
        #expect(abs(BinaryMetrics.auc(scores: scores, labels: labels)! - 13.0 / 16) < 1e-12)
        // One tie between a positive and a negative counts one half.
        #expect(abs(BinaryMetrics.auc(scores: [0.5, 0.5, 0.9], labels: [1, 0, 1])! - 0.75) < 1e-12)
        #expect(BinaryMetrics.auc(scores: [0.1, 0.2], labels: [1, 1]) == nil)
    }

    @Test func thresholdForTargetSensitivity() {
        // Positives' scores 0.9, 0.8, 0.6, 0.4: 75% needs 3 of 4 → 0.6; 100% → 0.4; 50% → 0.8.
        #expect(BinaryMetrics.threshold(forSensitivity: 0.75, scores: scores, labels: labels) == 0.6)
        #expect(BinaryMetrics.threshold(forSensitivity: 1.0, scores: scores, labels: labels) == 0.4)
        #expect(BinaryMetrics.threshold(forSensitivity: 0.5, scores: scores, labels: labels) == 0.8)
        let t = BinaryMetrics.threshold(forSensitivity: 0.98, scores: scores, labels: labels)!
        #expect(ThresholdMetrics(scores: scores, labels: labels, threshold: t).sensitivity >= 0.98)
    }

    @Test func rocCurveRunsFromOriginToOne() {
        let roc = BinaryMetrics.rocCurve(scores: scores, labels: labels)
        #expect(roc.first!.fpr == 0 && roc.first!.tpr == 0)
        #expect(roc.last!.fpr == 1 && roc.last!.tpr == 1)
        #expect(zip(roc, roc.dropFirst()).allSatisfy { $0.fpr <= $1.fpr && $0.tpr <= $1.tpr })
    }
}
