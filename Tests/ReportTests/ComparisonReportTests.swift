import Foundation
import Testing
@testable import Report
import TestSupport

/// `comparison.json` (DeLong's paired test of two models' AUCs) in the evaluation section: shown with its
/// figures when present and readable, named when broken, silent when absent.
@Suite struct ComparisonReportTests {
    let json = """
        {"split": "test", "samples": 624, "model_a": "baseline", "model_b": "optimized",
         "auc_a_ci95": {"lower": 0.93, "upper": 0.96}, "auc_b_ci95": {"lower": 0.95, "upper": 0.98},
         "delong": {"auc_a": 0.9452, "auc_b": 0.9671, "difference": -0.0219,
                    "difference_ci95": {"lower": -0.0391, "upper": -0.0047}, "z": -2.49, "p_value": 0.0128}}
        """

    func run(with comparison: String?) throws -> (RunDirectory, URL) {
        let dir = try temporaryDirectory()
        for name in ["eval.json", "eval_optimized.json"] {
            try FileManager.default.copyItem(at: fixtureRun("full_run").appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        if let comparison { try Data(comparison.utf8).write(to: dir.appendingPathComponent("comparison.json")) }
        return (try RunDirectory(dir), dir)
    }

    @Test func shownWithItsTest() throws {
        let (run, dir) = try run(with: json)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(run.comparison.value?.delong.p_value == 0.0128)
        let html = RunReport.render(run).html
        #expect(html.contains("baseline against optimized"))
        #expect(html.contains("AUC 0.9452 against 0.9671"))
        #expect(html.contains("p = 0.0128 (DeLong&#39;s paired test)") || html.contains("p = 0.0128 (DeLong's paired test)"))
        #expect(html.contains("unlikely to be chance"))
    }

    @Test func brokenIsNamedAndAbsentIsSilent() throws {
        let (broken, a) = try run(with: "{\"split\": 3}")
        defer { try? FileManager.default.removeItem(at: a) }
        #expect(broken.unreadable.contains { $0.hasPrefix("comparison.json: ") })
        let (absent, b) = try run(with: nil)
        defer { try? FileManager.default.removeItem(at: b) }
        #expect(absent.unreadable.isEmpty && !RunReport.render(absent).html.contains("DeLong's paired test"))
    }

    @Test func namesAreEscaped() throws {
        let (run, dir) = try run(with: json.replacingOccurrences(of: "\"baseline\"", with: "\"<b>x</b>\""))
        defer { try? FileManager.default.removeItem(at: dir) }
        let html = RunReport.render(run).html
        #expect(!html.contains("<b>x</b>") && html.contains("&lt;b&gt;x&lt;/b&gt;"))
    }
}
