import Charts
import Foundation

/// The words for a figure's uncertainty and for how a threshold was chosen, shared by the evaluation and
/// SLA sections so that the same interval reads the same way in both.
enum Uncertainty {
    /// "[97.3–99.6]": a fraction's interval in percent, one decimal; the "%" is left to the estimate before it.
    static func percentBounds(_ ci: Interval) -> String {
        "[\(Format.fixed(ci.lower * 100, 1))–\(Format.fixed(ci.upper * 100, 1))]"
    }

    /// "[0.9881–0.9943]": an interval on the value's own scale (an AUC's).
    static func bounds(_ ci: Interval, decimals: Int = 4) -> String {
        "[\(Format.fixed(ci.lower, decimals))–\(Format.fixed(ci.upper, decimals))]"
    }

    /// "98.9% [97.3–99.6]": a fraction as a percentage with its 95% interval; the estimate alone without one.
    static func percent(_ x: Double, _ ci: Interval?) -> String {
        Format.percent(x) + (ci.map { " " + percentBounds($0) } ?? "")
    }

    /// "0.9912 [0.9881–0.9943]": an AUC and its interval.
    static func auc(_ x: Double, _ ci: Interval?, decimals: Int = 4) -> String {
        Format.fixed(x, decimals) + (ci.map { " " + bounds($0, decimals: decimals) } ?? "")
    }

    /// `Metrics.ThresholdRule.explanation` for the rule's raw value; nil for files from before rules.
    /// A rule this report does not know is named as written rather than guessed at.
    static func rule(_ raw: String?) -> String? {
        switch raw {
        case nil: nil
        case "val-sensitivity": "the largest threshold whose val sensitivity reaches the target"
        case "wilson-lower-bound": "the largest threshold whose 95% Wilson lower bound of val sensitivity reaches the target"
        case let other?: "rule “\(other)”"
        }
    }

    /// The first check whose 95% interval straddles its target (`interval_crosses_target`, set by the writer).
    static func crossing(_ sla: SLAFile) -> SLAFile.Check? { sla.checks.first { $0.interval_crosses_target == true } }

    /// "PASS — 95% interval crosses the target": Deploy's `SLAScorecard.Check.verdict`, for the page.
    static func verdict(pass: Bool, crosses: Bool) -> String {
        (pass ? "PASS" : "FAIL") + (crosses ? " — 95% interval crosses the target" : "")
    }

    /// One line on what a crossing means for `check`: the estimate decides the verdict; the interval says
    /// how sure that verdict is.
    static func crossingNote(_ check: SLAFile.Check, model: String) -> String {
        let interval = check.ci95.map { " [\(Page.value($0.lower, unit: check.unit))–\(Page.value($0.upper, unit: check.unit))]" } ?? ""
        let side = check.pass
            ? "passes on its estimate, but its 95% interval\(interval) reaches below the target: too few cases to be confident it meets it."
            : "fails on its estimate, but its 95% interval\(interval) reaches above the target: too few cases to be sure it misses it."
        return "\(model), \(check.name): \(side)"
    }
}
