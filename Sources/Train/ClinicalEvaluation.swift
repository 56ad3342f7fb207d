import Data
import Foundation
import ClinicalMetrics
import Models
import NN

/// The spec's `evaluate_with_multiple_thresholds` on one split, with the operating point for a target
/// sensitivity chosen on the val split by a stated rule (never on the split being reported, when that is
/// test), 95% intervals on every figure, and calibration.
///
/// Scores are the model's calibrated P(pneumonia): the temperature stored with the checkpoint (fitted on
/// val by `Trainer`) is applied before anything else, so thresholds here are on the scale `predict` uses.
public struct ClinicalEvaluation: Codable, Sendable {
    public struct Target: Codable, Sendable {
        public var target_sensitivity: Double
        /// The split the threshold was chosen on (always `val`).
        public var chosen_on: String
        /// How it was chosen (`ThresholdRule`'s raw value); absent in files from before rules existed.
        public var rule: String?
        public var threshold: Double
        public var sensitivity: Double
        public var specificity: Double
        public var precision: Double
        public var f1: Double
        public var accuracy: Double
        public var confusion: ConfusionMatrix
        public var ci95: ProportionIntervals?
    }

    /// The AUC's 95% interval (DeLong).
    public struct AUCInterval: Codable, Sendable {
        public var auc: ConfidenceInterval?
    }

    /// Calibration of the reported split's probabilities, after and before the stored temperature.
    public struct CalibrationSummary: Codable, Sendable {
        /// 1 when the checkpoint stores none.
        public var temperature: Double
        /// "checkpoint" (fitted on val when training) or "none".
        public var temperature_source: String
        public var brier: Double
        public var ece: Double
        public var brier_uncalibrated: Double
        public var ece_uncalibrated: Double
        /// The reliability diagram: 10 equal-width bins of calibrated P(pneumonia).
        public var bins: [Calibration.Bin]
    }

    /// Sensitivity and specificity on val against the threshold, with Wilson intervals: what the
    /// operating point was chosen from.
    public struct OperatingPoint: Codable, Sendable {
        public var threshold: Double
        public var sensitivity: Double
        public var sensitivity_ci95: ConfidenceInterval?
        public var specificity: Double
        public var specificity_ci95: ConfidenceInterval?
    }

    /// A point of the ROC curve; `threshold` is nil for the (0, 0) point (threshold +∞).
    public struct ROCPoint: Codable, Sendable {
        public var fpr: Double
        public var tpr: Double
        public var threshold: Double?
    }

    public var split: String
    public var samples: Int
    /// Views averaged per image (test-time augmentation); absent or 1 for plain evaluation.
    public var views: Int?
    public var auc: Double
    public var ci95: AUCInterval?
    public var loss: Double
    public var thresholds: [ThresholdMetrics]
    public var target: Target?
    public var calibration: CalibrationSummary?
    /// On val, thresholds 0, 0.01, …, 1.
    public var operating_curve: [OperatingPoint]?
    /// The ROC curve on the reported split, thinned to at most ~200 points (every corner kept when fewer).
    public var roc: [ROCPoint]
    /// How the images were loaded, and how long it took (`pneumo eval` sets it).
    public var data_loading: DataLoadingReport? = nil
    /// Where this evaluation differs from the spec's defaults, and why ("no test split in this file; evaluating on val").
    public var spec_differences: [String]? = nil

    public static func run(checkpoint: Checkpoint, dataset: some SplitSource, split: Split, thresholds: [Double],
                           targetSensitivity: Double?, rule: ThresholdRule = .valSensitivity, batchSize: Int,
                           testTimeAugmentation: TestTimeAugmentation? = nil, backend: any Backend) throws -> ClinicalEvaluation {
        let d = checkpoint.descriptor
        let graph = try checkpoint.graph().appendingLoss()
        let preprocessing = try Preprocessing(size: d.input_size, channels: d.channels)
        let scaling = try checkpoint.temperatureScaling()
        func predict(_ s: Split) throws -> Predictions {
            if let tta = testTimeAugmentation {
                return try tta.predict(graph: graph, parameters: checkpoint.parameters, split: try dataset.split(s),
                                       preprocessing: preprocessing, batchSize: batchSize, backend: backend)
            }
            let loader = try DataLoader(try dataset.split(s), batchSize: batchSize, sampling: .sequential, preprocessing: preprocessing)
            return try Evaluator.predict(graph: graph, parameters: checkpoint.parameters, loader: loader, backend: backend)
        }
        let raw = try predict(split)
        var reported = raw
        reported.scores = scaling.apply(raw.scores)
        guard let auc = reported.auc else {
            throw TrainingError("\(dataset.file): the \(split.rawValue) split holds only one class; AUC and sensitivity are undefined")
        }
        var val = reported
        if split != .val { val = try predict(.val); val.scores = scaling.apply(val.scores) }
        var target: Target?
        if let goal = targetSensitivity {
            target = try Target(goal: goal, rule: rule, val: val, reported: reported, file: dataset.file)
        }
        let curve = BinaryMetrics.rocCurve(scores: reported.scores, labels: reported.labels)
        let stride = max(1, curve.count / 200)
        let roc = curve.enumerated().filter { $0.offset % stride == 0 || $0.offset == curve.count - 1 }.map {
            ROCPoint(fpr: $0.element.fpr, tpr: $0.element.tpr, threshold: $0.element.threshold.isFinite ? $0.element.threshold : nil)
        }
        let calibrated = Calibration(scores: reported.scores, labels: reported.labels)
        let uncalibrated = Calibration(scores: raw.scores, labels: raw.labels)
        let calibration = CalibrationSummary(temperature: scaling.temperature,
                                             temperature_source: checkpoint.info["temperature"] == nil ? "none" : "checkpoint",
                                             brier: calibrated.brier, ece: calibrated.ece, brier_uncalibrated: uncalibrated.brier,
                                             ece_uncalibrated: uncalibrated.ece, bins: calibrated.bins)
        return ClinicalEvaluation(split: split.rawValue, samples: reported.scores.count, views: testTimeAugmentation?.views.count ?? 1, auc: auc,
                                  ci95: AUCInterval(auc: DeLong.components(scores: reported.scores, labels: reported.labels)?.interval()),
                                  loss: reported.loss,
                                  thresholds: thresholds.map { ThresholdMetrics(scores: reported.scores, labels: reported.labels, threshold: $0) },
                                  target: target, calibration: calibration, operating_curve: operatingCurve(val), roc: roc)
    }

    static func operatingCurve(_ val: Predictions) -> [OperatingPoint] {
        (0...100).map { i in
            let m = ThresholdMetrics(scores: val.scores, labels: val.labels, threshold: Double(i) / 100)
            return OperatingPoint(threshold: m.threshold, sensitivity: m.sensitivity, sensitivity_ci95: m.ci95?.sensitivity,
                                  specificity: m.specificity, specificity_ci95: m.ci95?.specificity)
        }
    }

    /// A terminal table, one row per threshold, each proportion with its 95% interval.
    public func table() -> String {
        let aucCI = ci95?.auc.map { String(format: " [%.4f, %.4f]", $0.lower, $0.upper) } ?? ""
        let averaged = (views ?? 1) > 1 ? String(format: ", scores averaged over %d test-time views", views!) : ""
        var lines = [String(format: "%@ split, %d images%@: AUC %.4f%@ (95%% DeLong), loss %.4f", split, samples, averaged, auc, aucCI, loss),
                     "threshold  sensitivity          specificity          precision            F1      accuracy             TP   FP   TN   FN"]
        func cell(_ v: Double, _ ci: ConfidenceInterval?) -> String {
            (String(format: "%.3f", v) + (ci.map { String(format: " [%.3f,%.3f]", $0.lower, $0.upper) } ?? "")).padded(to: 21)
        }
        func row(_ label: String, _ t: Double, _ se: Double, _ sp: Double, _ pr: Double, _ f1: Double, _ acc: Double,
                 _ c: ConfusionMatrix, _ ci: ProportionIntervals?) -> String {
            String(format: "%@ %5.3f   ", label, t) + cell(se, ci?.sensitivity) + cell(sp, ci?.specificity) + cell(pr, ci?.precision)
                + String(format: "%.4f  ", f1) + cell(acc, ci?.accuracy)
                + String(format: "%4d %4d %4d %4d", c.truePositives, c.falsePositives, c.trueNegatives, c.falseNegatives)
        }
        for m in thresholds {
            lines.append(row("   ", m.threshold, m.sensitivity, m.specificity, m.precision, m.f1, m.accuracy, m.confusion, m.ci95))
        }
        if let t = target {
            lines.append(row(" * ", t.threshold, t.sensitivity, t.specificity, t.precision, t.f1, t.accuracy, t.confusion, t.ci95))
            let rule = t.rule.flatMap(ThresholdRule.init(rawValue:)) ?? .valSensitivity
            lines.append(String(format: "* %@ (%.3f)", rule.explanation, t.target_sensitivity))
        }
        if let c = calibration {
            lines.append(String(format: "calibration: Brier %.4f, ECE %.4f at temperature %.3f (%@); without it Brier %.4f, ECE %.4f",
                                c.brier, c.ece, c.temperature, c.temperature_source == "none" ? "none stored" : "stored with the model",
                                c.brier_uncalibrated, c.ece_uncalibrated))
        }
        lines.append("[a, b]: 95% intervals (Wilson for proportions); F1 has none")
        for note in spec_differences ?? [] { lines.append("note: " + note) }
        return lines.joined(separator: "\n")
    }
}

extension ClinicalEvaluation.Target {
    /// The operating point `rule` chooses on `val`, measured on `reported`.
    init(goal: Double, rule: ThresholdRule, val: Predictions, reported: Predictions, file: String) throws {
        if let why = rule.shortfall(forSensitivity: goal, positives: val.labels.count(where: { $0 == 1 }), split: "val") {
            throw TrainingError("\(file): " + why)
        }
        guard let t = rule.threshold(forSensitivity: goal, scores: val.scores, labels: val.labels) else {
            throw TrainingError("\(file): no threshold meets rule \(rule.rawValue) for sensitivity \(goal)")
        }
        let m = ThresholdMetrics(scores: reported.scores, labels: reported.labels, threshold: t)
        self.init(target_sensitivity: goal, chosen_on: "val", rule: rule.rawValue, threshold: t, sensitivity: m.sensitivity,
                  specificity: m.specificity, precision: m.precision, f1: m.f1, accuracy: m.accuracy, confusion: m.confusion, ci95: m.ci95)
    }
}
