import Charts
import Foundation

/// The evaluation's two uncertainty charts per model: how far P(pneumonia) can be taken at its word (the
/// reliability diagram), and how the operating point was found on val (sensitivity and specificity against
/// the threshold, with their intervals). Files from before calibration and the operating curve have
/// neither key, and get neither chart.
extension Page {
    /// The charts' part of the evaluation section; "" when no evaluation has the keys.
    mutating func calibrationCharts(_ evals: [(label: String, file: String, eval: EvalFile)]) -> String {
        var figures = ""
        for (label, _, e) in evals {
            let suffix = label.isEmpty ? "" : "_" + slug(label)
            if let c = e.calibration, let chart = Self.reliability(c, label: label, split: e.split) {
                figures += figure("reliability" + suffix, chart, caption: Self.calibrationCaption(c))
            }
            if let curve = e.operating_curve, !curve.isEmpty {
                let (chart, caption) = Self.operatingCurve(curve, target: e.target, label: label)
                figures += figure("operating_curve" + suffix, chart, caption: caption)
            }
        }
        guard !figures.isEmpty else { return "" }
        return "<h3>Calibration and the operating point, with 95% intervals</h3>\n<div class=\"grid\">\n" + figures + "</div>\n"
    }

    /// Observed pneumonia rate against mean predicted P(pneumonia) per bin, Wilson 95% error bars, the
    /// bin's image count above each; nil when every bin is empty.
    static func reliability(_ c: EvalFile.Calibration, label: String, split: String) -> IntervalChart? {
        let estimates: [IntervalChart.Estimate] = c.bins.compactMap { b in
            guard let x = b.mean_predicted, let y = b.observed_rate else { return nil }
            let ci = b.observed_ci95.map { " [\(Format.percent($0.lower))–\(Format.percent($0.upper))]" } ?? ""
            let tip = "P \(Format.fixed(b.lower, 2))–\(Format.fixed(b.upper, 2)): \(Format.grouped(b.count)) images, "
                + "mean predicted \(Format.percent(x)), observed \(Format.percent(y))\(ci)"
            return .init(x: x, y: y, lower: b.observed_ci95?.lower, upper: b.observed_ci95?.upper,
                         label: Format.grouped(b.count), tooltip: tip)
        }
        guard !estimates.isEmpty else { return nil }
        let rate = { (name: String) in AxisSpec(name, format: .fraction, domain: (0, 1)) }
        // Without the temperature is T = 1 (the temperature divides the logit).
        let scores = { (b: Double, e: Double) in "Brier \(Format.fixed(b, 4)), ECE \(Format.fixed(e, 4))" }
        let subtitle = c.temperature_source == "checkpoint"
            ? "\(scores(c.brier, c.ece)) at T = \(Format.significant(c.temperature)); at T = 1: "
                + "\(Format.fixed(c.brier_uncalibrated, 4)), \(Format.fixed(c.ece_uncalibrated, 4))"
            : "\(scores(c.brier, c.ece)); no temperature stored (T = \(Format.significant(c.temperature)))"
        return IntervalChart(
            title: "Reliability diagram" + (label.isEmpty ? "" : ", " + label) + " (\(split) split)",
            subtitle: subtitle,
            series: [.init(name: "observed rate (95% Wilson), n images", estimates: estimates, style: .errorBars)],
            references: [.diagonal(label: "perfect calibration")],
            xAxis: rate("Mean predicted P(pneumonia) (%)"), yAxis: rate("Observed pneumonia rate (%)"))
    }

    /// Brier and ECE with the temperature and without it, in a sentence.
    static func calibrationCaption(_ c: EvalFile.Calibration) -> String {
        let after = "Brier \(Format.fixed(c.brier, 4)), ECE \(Format.fixed(c.ece, 4))"
        let before = "Brier \(Format.fixed(c.brier_uncalibrated, 4)), ECE \(Format.fixed(c.ece_uncalibrated, 4))"
        let scores = c.temperature_source == "checkpoint"
            ? "With the temperature stored with the model (T = \(Format.significant(c.temperature))): \(after); without it: \(before)."
            : "No temperature stored with the model (T = \(Format.significant(c.temperature))): \(after)."
        return scores + " Points on the dashed diagonal would mean P(pneumonia) is the rate observed; "
            + "bars are 95% Wilson intervals, numbers the images in each bin."
    }

    /// Sensitivity and specificity on val against the threshold in their 95% bands, the target sensitivity
    /// as a horizontal line and the chosen threshold as a vertical one; with its caption.
    static func operatingCurve(_ curve: [EvalFile.OperatingPoint], target: EvalFile.Target?, label: String) -> (IntervalChart, String) {
        func band(_ value: (EvalFile.OperatingPoint) -> Double, _ ci: (EvalFile.OperatingPoint) -> Interval?) -> [IntervalChart.Estimate] {
            curve.map { .init(x: $0.threshold, y: value($0), lower: ci($0)?.lower, upper: ci($0)?.upper) }
        }
        var references: [IntervalChart.Reference] = []
        var caption = "Sensitivity and specificity on the val split at each threshold (score ≥ t ⇒ pneumonia), in their 95% Wilson bands."
        if let t = target {
            references.append(.horizontal(t.target_sensitivity, label: "target \(Format.percent(t.target_sensitivity))"))
            references.append(.vertical(t.threshold, label: "chosen t = \(Format.fixed(t.threshold, 3))"))
            let rule = Uncertainty.rule(t.rule) ?? "the largest threshold that reaches the target sensitivity"
            caption += " The threshold t = \(Format.fixed(t.threshold, 3)) was chosen on the \(t.chosen_on) split as \(rule) "
                + "(\(Format.percent(t.target_sensitivity)))."
        }
        let chart = IntervalChart(
            title: "Operating point against threshold" + (label.isEmpty ? "" : ", " + label),
            subtitle: "val split, 95% Wilson bands" + (target.map { "; chosen t = \(Format.fixed($0.threshold, 3))" } ?? ""),
            series: [.init(name: "sensitivity", estimates: band(\.sensitivity, \.sensitivity_ci95), style: .band, color: 0),
                     .init(name: "specificity", estimates: band(\.specificity, \.specificity_ci95), style: .band, color: 1)],
            references: references,
            xAxis: AxisSpec("Threshold t", format: .number, domain: (0, 1)),
            yAxis: AxisSpec("Rate on val (%)", format: .fraction, domain: (0, 1)))
        return (chart, caption)
    }
}
