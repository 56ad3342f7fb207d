import Charts
import Foundation
import Testing
@testable import Report
import TestSupport

/// The uncertainty in the report: 95% intervals beside the figures, the reliability diagram and the
/// operating-point chart, the SLA's PASS whose interval crosses its target; and run files from before
/// those keys, which must render as they did. Values are the full_run fixture's (Fixtures/make_fixtures.py).
struct IntervalReportTests {
    /// The keys that came with intervals, calibration and threshold rules.
    static let newKeys: Set<String> = ["ci95", "rule", "calibration", "operating_curve", "interval_crosses_target",
                                       "sensitivity_ci95", "specificity_ci95", "auc_ci95", "threshold_rule", "temperature"]

    static let newCharts = ["reliability_baseline", "operating_curve_baseline", "reliability_optimized", "operating_curve_optimized"]

    @Test func evaluationShowsIntervalsAndTheRule() throws {
        let report = RunReport.render(try RunDirectory(fixtureRun("full_run")))
        let evaluation = try #require(section("evaluation", of: report.html))
        #expect(evaluation.contains("baseline: test split, 624 images: AUC <strong>0.9600</strong> [0.9469–0.9731] (95% DeLong)"))
        #expect(evaluation.contains("optimized: test split, 624 images: AUC <strong>0.9808</strong> [0.9725–0.9892] (95% DeLong)"))
        // The baseline's operating point: sensitivity, specificity, precision, accuracy with their Wilson intervals.
        for cell in ["98.2% [96.3–99.1]", "53.4% [47.0–59.7]", "77.8% [74.0–81.3]", "81.4% [78.2–84.3]"] {
            #expect(evaluation.contains("<td class=\"num\">\(cell)</td>"), "\(cell)")
        }
        #expect(evaluation.contains("[a–b] 95% Wilson interval"))
        #expect(evaluation.contains("Threshold <strong>0.348</strong>, chosen on the val split as the largest threshold whose val "
                                    + "sensitivity reaches the target (98.0%)."))
        #expect(evaluation.contains("(sensitivity 98.2% [96.3–99.1])"))
        let header = try #require(report.html.components(separatedBy: "<main").first)
        #expect(header.contains("[0.9725–0.9892] (95% DeLong); optimized, test split"))  // the AUC tile
    }

    @Test func reliabilityDiagramPerModel() throws {
        let report = RunReport.render(try RunDirectory(fixtureRun("full_run")))
        #expect(report.charts.map(\.name).filter { Self.newCharts.contains($0) } == Self.newCharts)
        let evaluation = try #require(section("evaluation", of: report.html))
        let chart = try #require(report.charts.first { $0.name == "reliability_optimized" }?.chart as? IntervalChart)
        let svg = chart.svg(standalone: true)
        #expect(svg.contains("<title>Reliability diagram, optimized (test split)</title>"))
        #expect(svg.contains(">perfect calibration</text>"))
        #expect(svg.contains("Brier 0.0810, ECE 0.1573 at T = 0.7; at T = 1: 0.1029, 0.2148"))
        #expect(svg.contains(">116</text>"))  // a bin's image count, on the chart…
        #expect(svg.contains("<title>P 0.80–0.90: 116 images, mean predicted 85.4%, observed 99.1% [95.3%–99.8%]</title>"))  // …and on hover
        // Ten bins, none empty in the fixture: ten points, each inside its Wilson bar.
        let l = chart.layout()
        #expect(l.points[0].count == 10 && l.intervals[0].count == 10)
        for (p, r) in zip(l.points[0], l.intervals[0]) { #expect(r.y <= p.y + 1e-9 && p.y <= r.maxY + 1e-9) }
        #expect(evaluation.contains("With the temperature stored with the model (T = 0.7): Brier 0.0810, ECE 0.1573; "
                                    + "without it: Brier 0.1029, ECE 0.2148."))
        #expect(evaluation.contains("No temperature stored with the model (T = 1): Brier 0.1029, ECE 0.1406."))
        #expect(evaluation.contains("<figure class=\"chart\" id=\"chart-reliability_baseline\" data-chart=\"reliability_baseline\">"))
    }

    @Test func operatingPointChartMarksTheChosenThreshold() throws {
        let report = RunReport.render(try RunDirectory(fixtureRun("full_run")))
        let chart = try #require(report.charts.first { $0.name == "operating_curve_baseline" }?.chart as? IntervalChart)
        let svg = chart.svg(standalone: true)
        #expect(svg.contains("<title>Operating point against threshold, baseline</title>"))
        #expect(svg.contains(">chosen t = 0.348</text>"))
        #expect(svg.contains(">target 98.0%</text>"))
        // One band each for sensitivity and specificity: every fixture point has its interval.
        #expect(svg.components(separatedBy: "class=\"pc-a0\"").count - 1 == 1)
        #expect(svg.components(separatedBy: "class=\"pc-a1\"").count - 1 == 1)
        let l = chart.layout()
        #expect(abs(l.verticals[0] - (l.plot.x + 0.348138 * l.plot.width)) < 1e-6)
        #expect(abs(l.horizontals[0] - (l.plot.maxY - 0.98 * l.plot.height)) < 1e-6)
        #expect(l.crossings.count == 2 && l.crossings.allSatisfy { abs($0.x - l.verticals[0]) < 1e-9 })
        #expect(svg.contains("class=\"pc-mark\" x1=\"\(svgNumber(l.verticals[0]))\""))
        let evaluation = try #require(section("evaluation", of: report.html))
        #expect(evaluation.contains("The threshold t = 0.348 was chosen on the val split as the largest threshold whose val "
                                    + "sensitivity reaches the target (98.0%)."))
    }

    @Test(arguments: [
        ("wilson-lower-bound", "the largest threshold whose 95% Wilson lower bound of val sensitivity reaches the target"),
        ("val-sensitivity", "the largest threshold whose val sensitivity reaches the target"),
        ("<b>cheapest</b>", "rule “&lt;b&gt;cheapest&lt;/b&gt;”"),  // unknown: named as written, and escaped
    ])
    func theRuleIsSaidInWords(rule: String, words: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let eval = try String(contentsOf: fixtureRun("full_run").appendingPathComponent("eval.json"), encoding: .utf8)
        let rewritten = eval.replacingOccurrences(of: "\"rule\": \"val-sensitivity\"", with: "\"rule\": \"\(rule)\"")
        #expect(eval.contains("\"rule\": \"val-sensitivity\""))
        try Data(rewritten.utf8).write(to: dir.appendingPathComponent("eval.json"))
        let evaluation = try #require(section("evaluation", of: RunReport.render(try RunDirectory(dir)).html))
        #expect(evaluation.contains("chosen on the val split as \(words) (98.0%)."))
        #expect(!evaluation.contains("<b>"))
    }

    @Test func aPassWhoseIntervalCrossesTheTargetIsMarked() throws {
        let report = RunReport.render(try RunDirectory(fixtureRun("full_run")))
        let sla = try #require(section("sla", of: report.html))
        #expect(sla.contains("optimized: <span class=\"badge pass caution\">PASS — 95% interval crosses the target</span>"))
        #expect(sla.contains("baseline: <span class=\"badge fail\">FAIL</span>"))  // a FAIL stays a FAIL
        #expect(sla.contains("<td class=\"num\" title=\"0.982051\">98.2% [96.3–99.1]</td>"))
        #expect(sla.contains("<td class=\"pass caution\">✓ pass — 95% interval crosses the target</td>"))
        #expect(sla.contains("<td class=\"num\" title=\"0.9846\">98.5%</td>"))  // the baseline's file has no interval
        #expect(sla.contains("<p class=\"caution-note\">optimized, Sensitivity: passes on its estimate, but its 95% interval "
                             + "[96.3%–99.1%] reaches below the target: too few cases to be confident it meets it.</p>"))
        for cell in ["76.5% [70.7–81.5]", "0.9808 [0.9725–0.9892]", "val-sensitivity", "0.7"] {
            #expect(sla.contains(">\(cell)</td>"), "\(cell)")
        }
        #expect(report.html.contains("5 of 5 checks met; Sensitivity&#39;s 95% interval crosses its target"))  // the SLA tile
    }

    @Test func aFailWhoseIntervalCrossesTheTargetSaysSoToo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sla = #"{"gflops_per_sample": 0.1, "peak_memory_mb": 10, "latency_ms": 1.5, "amortized_latency_ms": 0.4, "#
            + #""throughput_samples_per_s": 2500, "sensitivity": 0.975, "specificity": 0.8, "auc": 0.96, "pass": false, "#
            + #""checks": [{"name": "sensitivity", "target": 0.98, "measured": 0.975, "unit": "", "margin": -0.0051, "pass": false, "#
            + #""ci95": {"lower": 0.955, "upper": 0.987}, "interval_crosses_target": true}]}"#
        try Data(sla.utf8).write(to: dir.appendingPathComponent("sla_optimized.json"))
        let html = try #require(section("sla", of: RunReport.render(try RunDirectory(dir)).html))
        #expect(html.contains("optimized: <span class=\"badge fail\">FAIL</span>"))
        #expect(html.contains("<td class=\"fail caution\">✗ fail — 95% interval crosses the target</td>"))
        #expect(html.contains("optimized, sensitivity: fails on its estimate, but its 95% interval [95.5%–98.7%] reaches above the target"))
    }

    @Test func filesFromBeforeIntervalsRenderAsBefore() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = fixtureRun("full_run")
        for name in try FileManager.default.contentsOfDirectory(atPath: full.path) {
            let data = try Data(contentsOf: full.appendingPathComponent(name))
            guard name.hasSuffix(".json") else { try data.write(to: dir.appendingPathComponent(name)); continue }
            let old = Self.withoutNewKeys(try JSONSerialization.jsonObject(with: data))
            try JSONSerialization.data(withJSONObject: old, options: [.sortedKeys]).write(to: dir.appendingPathComponent(name))
        }
        let run = try RunDirectory(dir)
        #expect(run.unreadable.isEmpty)
        #expect(run.evaluation.value?.calibration == nil && run.evaluation.value?.target?.rule == nil)
        let report = RunReport.render(run)
        #expect(report.notRun.isEmpty)
        #expect(report.charts.map(\.name) == fullRunCharts.filter { !Self.newCharts.contains($0) })
        let evaluation = try #require(section("evaluation", of: report.html))
        for absent in ["DeLong", "Wilson", "Reliability", "Calibration and the operating point", "chart-note", " ["] {
            #expect(!evaluation.contains(absent), "\(absent)")
        }
        #expect(evaluation.contains("Threshold <strong>0.348</strong>, the largest that reaches sensitivity 98.0% on the val split."))
        #expect(evaluation.contains("<td class=\"num\">98.2%</td>"))
        let sla = try #require(section("sla", of: report.html))
        #expect(sla.contains("optimized: <span class=\"badge pass\">PASS</span>"))
        #expect(!sla.contains("caution") && !sla.contains("Threshold rule") && !sla.contains("Temperature"))
    }

    static func withoutNewKeys(_ object: Any) -> Any {
        if let d = object as? [String: Any] {
            return d.filter { !newKeys.contains($0.key) }.mapValues(withoutNewKeys)
        }
        if let a = object as? [Any] { return a.map(withoutNewKeys) }
        return object
    }
}
