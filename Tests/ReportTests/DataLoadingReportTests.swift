import Charts
import Foundation
import Testing
@testable import Report
import TestSupport

/// The data section shows how the run loaded its images (#21 item 4): the time, the subset, and what was said.
struct DataLoadingReportTests {
    @Test func dataLoadingIsShown() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = #"{"image_size": 28, "splits": {"train": {"total": 70, "normal": 20, "pneumonia": 50}, "val": null, "test": null}, "#
            + #""loading": {"seconds": 0.25, "subset": 100, "notes": ["size 64 not in file; using 28"]}}"#
        try Data(data.utf8).write(to: dir.appendingPathComponent("data.json"))
        let run = try RunDirectory(dir)
        #expect(run.data.value?.loading == DataFile.Loading(seconds: 0.25, subset: 100, notes: ["size 64 not in file; using 28"]))
        let page = try #require(section("data", of: RunReport.render(run).html))
        #expect(page.contains("Loaded in 250 ms, a subset of 100 images (70/15/15% from train/val/test)."))
        #expect(page.contains("Note: size 64 not in file; using 28"))
    }
}
