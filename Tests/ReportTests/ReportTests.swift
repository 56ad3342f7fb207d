import Charts
import Foundation
import Testing
@testable import Report
import TestSupport

struct ReportTests {
    @Test func fullRunHasEverySectionAndChart() throws {
        let run = try RunDirectory(fixtureRun("full_run"))
        let report = RunReport.render(run)
        #expect(report.notRun.isEmpty)
        #expect(report.charts.map(\.name) == fullRunCharts)
        for id in RunReport.sections {
            let s = try #require(section(id, of: report.html), "section \(id)")
            #expect(!s.contains("not-run"), "section \(id) says not run")
        }
        for name in fullRunCharts {
            #expect(report.html.contains("<figure class=\"chart\" id=\"chart-\(name)\" data-chart=\"\(name)\">"), "\(name)")
        }
        #expect(report.html.contains("id=\"chart-samples\""))
        // The sample grid, as an image whose SVG holds the 8 pictures.
        let grid = try #require(embeddedSVGs(report.html).first)
        #expect(grid.components(separatedBy: "<image ").count - 1 == 8)
        #expect(!report.html.contains("<image "))
        #expect(!report.html.contains("<?xml"))
        #expect(!report.html.lowercased().contains("<script"))
        #expect(!report.html.contains("src=\"http") && !report.html.contains("href=\"http"))  // nothing from the network
        #expect(report.html.contains("Content-Security-Policy"))
    }

    @Test func fullRunShowsTheNumbersPeopleLookFor() throws {
        let html = RunReport.render(try RunDirectory(fixtureRun("full_run"))).html
        let sla = try #require(section("sla", of: html))
        #expect(sla.contains("baseline: <span class=\"badge fail\">FAIL</span>"))
        #expect(sla.contains("optimized: <span class=\"badge pass caution\">PASS — 95% interval crosses the target</span>"))
        #expect(sla.contains("&lt; 3 ms"))
        #expect(sla.contains("&gt; 98%"))
        #expect(sla.contains("2-core x86-64 CPU (AVX2)"))
        let evaluation = try #require(section("evaluation", of: html))
        #expect(evaluation.contains("0.348 ★"))  // the chosen threshold, marked in the table
        #expect(evaluation.contains("<tr class=\"highlight\">"))
        let profile = try #require(section("profile", of: html))
        #expect(profile.contains("p50"))
        #expect(profile.contains(" ms"))
        #expect(profile.contains(" MB"))
        let optimization = try #require(section("optimization", of: html))
        #expect(optimization.contains("not applied"))  // the low-rank technique has no measurement
    }

    @Test func writesThePageAndEveryChartAsStandaloneSVG() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let html = out.appendingPathComponent("report.html")
        let written = try RunReport.write(runDirectory: fixtureRun("full_run"), to: html)
        #expect(written.html == html)
        #expect(written.charts.map { $0.deletingPathExtension().lastPathComponent } == fullRunCharts)
        for url in written.charts {
            let svg = try String(contentsOf: url, encoding: .utf8)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(svg.contains("role=\"img\""))
            #expect(svg.contains("<title>"))
            #expect(svg.contains("prefers-color-scheme: dark"))
            try expectWellFormedXML(svg)
        }
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        // No temporary files left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
        // Writing again gives the same bytes: nothing random, no time stamps.
        try RunReport.write(runDirectory: fixtureRun("full_run"), to: html)
        #expect(try String(contentsOf: html, encoding: .utf8) == page)
    }

    @Test func defaultOutputIsInsideTheRunDirectory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["history.json", "data.json"] {
            try FileManager.default.copyItem(at: fixtureRun("full_run").appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let written = try RunReport.write(runDirectory: dir)
        #expect(written.html == dir.appendingPathComponent("report.html"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("charts/loss.svg").path))
        #expect(written.notRun == ["evaluation", "profile", "optimization", "sla"])
        #expect(written.unreadable.isEmpty)
    }

    @Test func missingFilesSayNotRunAndBrokenOnesSayWhy() throws {
        let run = try RunDirectory(fixtureRun("partial_run"))
        #expect(run.data.value != nil)
        #expect(run.history.value?.count == 6)
        guard case .unreadable(let why) = run.evaluation else { Issue.record("eval.json should be unreadable"); return }
        #expect(why.hasPrefix("eval.json: "))
        let report = RunReport.render(run)
        #expect(report.notRun == ["profile", "optimization", "sla"])
        #expect(report.charts.map(\.name) == ["class_distribution", "loss", "accuracy", "auc"])
        let evaluation = try #require(section("evaluation", of: report.html))
        #expect(evaluation.contains("Could not read"))
        #expect(evaluation.contains("eval.json"))
        for id in ["profile", "optimization", "sla"] {
            let s = try #require(section(id, of: report.html))
            #expect(s.contains("<p class=\"not-run\"><strong>Not run.</strong>"), "\(id)")
        }
        #expect(section("profile", of: report.html)!.contains(
            "none of <code>profile.json</code>, <code>profile_baseline.json</code> or <code>profile_optimized.json</code> is in the run directory."))
        #expect(section("sla", of: report.html)!.contains(
            "<code>sla_baseline.json</code> and <code>sla_optimized.json</code> are not in the run directory."))
        let samples = try #require(section("data", of: report.html))
        #expect(samples.contains("<code>samples.svg</code> is not in the run directory"))
    }

    @Test func anEmptyRunDirectoryIsAllNotRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = RunReport.render(try RunDirectory(dir))
        #expect(report.notRun == RunReport.sections)
        #expect(report.charts.isEmpty)
        #expect(report.html.contains("0 of 11 run files present."))
    }

    @Test func aMissingRunDirectoryIsAnError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gone = dir.appendingPathComponent("no-such-run")
        #expect(throws: ReportError("no such run directory: \(gone.path)")) { try RunReport.write(runDirectory: gone) }
        let file = dir.appendingPathComponent("file.json")
        try Data("{}".utf8).write(to: file)
        #expect(throws: ReportError("not a directory: \(file.path) (--run takes the directory a pipeline wrote)")) {
            try RunDirectory(file)
        }
    }

    @Test func decodingErrorsNameTheKey() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"[{"epoch": 1, "learning_rate": 0.1}]"#.utf8).write(to: dir.appendingPathComponent("history.json"))
        try Data(#"{"techniques": [{"name": "x", "estimated": {"macs_reduction": "a lot"}}]}"#.utf8)
            .write(to: dir.appendingPathComponent("analysis.json"))
        let run = try RunDirectory(dir)
        guard case .unreadable(let history) = run.history, case .unreadable(let analysis) = run.analysis else {
            Issue.record("both files should be unreadable"); return
        }
        #expect(history == "history.json: missing key \"train_loss\" at [0]")
        #expect(analysis.hasPrefix("analysis.json: wrong type at techniques[0].estimated.macs_reduction"))
        // What `pneumo report` prints on standard error (and exits 1 for), in section order.
        #expect(run.unreadable == [history, analysis])
        let written = try RunReport.write(runDirectory: dir)
        #expect(written.unreadable == [history, analysis])
    }

    @Test func contractAcceptsItsVariants() throws {
        // profile.json may hold an array of models; SLA targets may be numbers or text; roc thresholds may be null.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let profile = #"{"model": "m", "macs_per_sample": 1e6, "flops_per_sample": 2e6, "parameters": 1000}"#
        try Data("[\(profile), \(profile.replacingOccurrences(of: "\"m\"", with: "\"n\""))]".utf8).write(to: dir.appendingPathComponent("profile.json"))
        // The shapes Deploy.SLAScorecard writes: numeric targets, the margin telling the direction, "" for a fraction.
        let check = #"{"name": "Latency", "target": 3, "measured": 1.5, "unit": "ms", "margin": 0.5, "pass": true}, "#
            + #"{"name": "sensitivity", "target": 0.98, "measured": 0.985, "unit": "", "margin": 0.0051020408, "pass": true}, "#
            + #"{"name": "odd", "target": 2, "measured": 1, "unit": "widgets", "pass": false}"#
        let sla = #"{"gflops_per_sample": 0.1, "peak_memory_mb": 10, "latency_ms": 1.5, "amortized_latency_ms": 0.4, "#
            + #""throughput_samples_per_s": 2500, "sensitivity": 0.985, "specificity": 0.8, "auc": 0.96, "pass": true, "checks": [\#(check)]}"#
        try Data(sla.utf8).write(to: dir.appendingPathComponent("sla_optimized.json"))
        let eval = #"{"split": "test", "samples": 4, "auc": 0.75, "loss": 0.5, "thresholds": [], "target": null, "#
            + #""roc": [{"fpr": 0, "tpr": 0, "threshold": null}, {"fpr": 1, "tpr": 1, "threshold": 0}]}"#
        try Data(eval.utf8).write(to: dir.appendingPathComponent("eval.json"))
        let run = try RunDirectory(dir)
        #expect(run.profiles.map(\.label) == ["m", "n"])
        #expect(run.slaOptimized.value?.checks.first?.target == .number(3))
        #expect(run.evaluation.value?.roc?.first?.threshold == nil)
        let report = RunReport.render(run)
        #expect(report.notRun == ["data", "training", "optimization"])
        let sla_ = try #require(section("sla", of: report.html))
        #expect(sla_.contains("<td>&lt; 3 ms</td>"))
        #expect(sla_.contains("<td>&gt; 98.0%</td><td class=\"num\" title=\"0.985\">98.5%</td>"))
        #expect(sla_.contains("<td>2 widgets</td>"))  // no margin: no direction to show
        #expect(sla_.contains("sla_baseline.json"))  // the missing half says so
        #expect(report.charts.map(\.name) == ["roc"])
    }

    @Test func bothEvaluationsShareTheROCPlot() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = fixtureRun("full_run")
        try FileManager.default.copyItem(at: full.appendingPathComponent("eval.json"), to: dir.appendingPathComponent("eval.json"))
        try FileManager.default.copyItem(at: full.appendingPathComponent("eval.json"), to: dir.appendingPathComponent("eval_optimized.json"))
        // Estimates may leave fields out (null): no bar, a dash in the table.
        try Data(#"{"techniques": [{"name": "FP16", "needs_retraining": false, "estimated": {"speedup": 1.6}, "measured": null}]}"#.utf8)
            .write(to: dir.appendingPathComponent("analysis.json"))
        let report = RunReport.render(try RunDirectory(dir))
        let evaluation = try #require(section("evaluation", of: report.html))
        #expect(evaluation.contains("Operating point, baseline"))
        #expect(evaluation.contains("Operating point, optimized"))
        #expect(evaluation.contains("Optimized: metrics by threshold"))
        let roc = try #require(report.charts.first { $0.name == "roc" }).chart.svg(standalone: true)
        #expect(roc.contains("baseline: AUC 0.960"))
        #expect(roc.contains("optimized: AUC 0.960"))
        let optimization = try #require(section("optimization", of: report.html))
        #expect(optimization.contains("1.6× / –"))
        #expect(optimization.contains("– / –"))
    }

    @Test(arguments: [
        (1.5, "ms", "1.5 ms"), (0.985, "", "98.5%"), (3, "", "3"), (0.12, "GFLOPs", "0.12 GFLOP"), (0.42, "ms", "420 µs"), (42.5, "MB", "42.5 MB"), (2500, "samples/s", "2.5k samples/s"),
        (0.9821, "fraction", "98.2%"), (0.12, "GFLOP", "0.12 GFLOP"), (3, "widgets", "3 widgets"), (7, "", "7"),
    ] as [(Double, String, String)])
    func slaUnitsAreFormattedForPeople(value: Double, unit: String, expected: String) {
        #expect(Page.value(value, unit: unit) == expected)
    }
}
