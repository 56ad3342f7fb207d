import Foundation
import Testing
@testable import Report
import TestSupport

/// Run files are data from disk, not the report's own markup: nothing in them may become the page's HTML,
/// and values the trainer calls undefined stay undefined on the page.
struct UntrustedRunFilesTests {
    /// `report` pasted samples.svg into the page: a closing tag, a meta refresh or an `onload` in it landed in
    /// the HTML. It is an `<img>` with a base64 data URI now, whose bytes are the file's exactly.
    @Test func samplesSVGCannotReachTheMarkup() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hostile = """
            <svg xmlns="http://www.w3.org/2000/svg" width="480" height="120" onload="alert(1)"></svg></figure>\
            <meta http-equiv="refresh" content="0;url=https://example.com"><script>alert(2)</script><svg>
            """
        try Data(hostile.utf8).write(to: dir.appendingPathComponent(RunDirectory.samplesFile))
        let html = RunReport.render(try RunDirectory(dir)).html
        for markup in ["onload", "http-equiv=\"refresh\"", "<script", "example.com", "alert("] {
            #expect(!html.contains(markup), "\(markup)")
        }
        #expect(embeddedSVGs(html) == [hostile])
        #expect(html.contains("width=\"480\" alt=\"Sample images per class\">"))
    }

    /// A one-class val split: history.json holds `"val_auc": null`. The page says undefined, draws no AUC
    /// chart, and still shows loss and accuracy.
    @Test func undefinedValidationAUCIsSaidAndNotDrawn() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = (1...2).map { e in
            #"{"epoch": \#(e), "learning_rate": 0.001, "train_loss": 0.6, "train_accuracy": 0.7, "val_loss": 0.5, "val_accuracy": 1, "val_auc": null, "seconds": 1}"#
        }
        try Data(("[" + history.joined(separator: ",") + "]").utf8).write(to: dir.appendingPathComponent(RunDirectory.historyFile))
        let report = RunReport.render(try RunDirectory(dir))
        let training = try #require(section("training", of: report.html))
        #expect(training.contains("Validation AUC <strong>undefined</strong>"))
        #expect(report.charts.map(\.name) == ["loss", "accuracy"])
    }
}
