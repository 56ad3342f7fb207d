import Data
import Foundation
import Metrics
import Models
import NN

/// The spec's `evaluate_with_multiple_thresholds` on one split, with the operating point for a target
/// sensitivity chosen on the val split (never on the split being reported, when that is test).
public struct ClinicalEvaluation: Codable, Sendable {
    public struct Target: Codable, Sendable {
        public var target_sensitivity: Double
        /// The split the threshold was chosen on (always `val`).
        public var chosen_on: String
        public var threshold: Double
        public var sensitivity: Double
        public var specificity: Double
        public var precision: Double
        public var f1: Double
        public var accuracy: Double
        public var confusion: ConfusionMatrix
    }

    /// A point of the ROC curve; `threshold` is nil for the (0, 0) point (threshold +∞).
    public struct ROCPoint: Codable, Sendable {
        public var fpr: Double
        public var tpr: Double
        public var threshold: Double?
    }

    public var split: String
    public var samples: Int
    public var auc: Double
    public var loss: Double
    public var thresholds: [ThresholdMetrics]
    public var target: Target?
    /// The ROC curve on the reported split, thinned to at most ~200 points (every corner kept when fewer).
    public var roc: [ROCPoint]

    public static func run(checkpoint: Checkpoint, dataset: MedMNISTDataset, split: Split, thresholds: [Double],
                           targetSensitivity: Double?, batchSize: Int, backend: any Backend) throws -> ClinicalEvaluation {
        let d = checkpoint.descriptor
        let graph = try checkpoint.graph().appendingLoss()
        let preprocessing = try Preprocessing(size: d.input_size, channels: d.channels)
        func predict(_ s: Split) throws -> Predictions {
            let loader = try DataLoader(try dataset.split(s), batchSize: batchSize, sampling: .sequential, preprocessing: preprocessing)
            return try Evaluator.predict(graph: graph, parameters: checkpoint.parameters, loader: loader, backend: backend)
        }
        let reported = try predict(split)
        guard let auc = reported.auc else {
            throw TrainingError("\(dataset.file): the \(split.rawValue) split holds only one class; AUC and sensitivity are undefined")
        }
        var target: Target?
        if let goal = targetSensitivity {
            let val = split == .val ? reported : try predict(.val)
            guard let t = BinaryMetrics.threshold(forSensitivity: goal, scores: val.scores, labels: val.labels) else {
                throw TrainingError("\(dataset.file): the val split has no pneumonia cases to choose a threshold on")
            }
            let m = ThresholdMetrics(scores: reported.scores, labels: reported.labels, threshold: t)
            target = Target(target_sensitivity: goal, chosen_on: "val", threshold: t, sensitivity: m.sensitivity,
                            specificity: m.specificity, precision: m.precision, f1: m.f1, accuracy: m.accuracy, confusion: m.confusion)
        }
        let curve = BinaryMetrics.rocCurve(scores: reported.scores, labels: reported.labels)
        let stride = max(1, curve.count / 200)
        let roc = curve.enumerated().filter { $0.offset % stride == 0 || $0.offset == curve.count - 1 }.map {
            ROCPoint(fpr: $0.element.fpr, tpr: $0.element.tpr, threshold: $0.element.threshold.isFinite ? $0.element.threshold : nil)
        }
        return ClinicalEvaluation(split: split.rawValue, samples: reported.scores.count, auc: auc, loss: reported.loss,
                                  thresholds: thresholds.map { ThresholdMetrics(scores: reported.scores, labels: reported.labels, threshold: $0) },
                                  target: target, roc: roc)
    }

    /// A terminal table, one row per threshold.
    public func table() -> String {
        var lines = [String(format: "%@ split, %d images: AUC %.4f, loss %.4f", split, samples, auc, loss),
                     "threshold  sensitivity  specificity  precision     F1  accuracy    TP   FP   TN   FN"]
        func row(_ label: String, _ t: Double, _ se: Double, _ sp: Double, _ pr: Double, _ f1: Double, _ acc: Double, _ c: ConfusionMatrix) -> String {
            String(format: "%@ %5.3f   %10.4f  %11.4f  %9.4f  %5.4f  %8.4f  %4d %4d %4d %4d", label, t, se, sp, pr, f1, acc,
                   c.truePositives, c.falsePositives, c.trueNegatives, c.falseNegatives)
        }
        for m in thresholds { lines.append(row("   ", m.threshold, m.sensitivity, m.specificity, m.precision, m.f1, m.accuracy, m.confusion)) }
        if let t = target {
            lines.append(row(" * ", t.threshold, t.sensitivity, t.specificity, t.precision, t.f1, t.accuracy, t.confusion))
            lines.append(String(format: "* the largest threshold reaching sensitivity %.3f on the val split", t.target_sensitivity))
        }
        return lines.joined(separator: "\n")
    }
}
