import Foundation
import Report
import Testing
import TestSupport

/// The contract test's own gate fails as it should: a file nobody accounts for, and one Report cannot read, are
/// each named; the patterns of `notForReport` match within one name only.
@Suite struct RunFolderContractGateTests {
    @Test func strayAndUnreadableFilesAreNamed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("stray.json"))
        try Data("{}".utf8).write(to: dir.appendingPathComponent(RunDirectory.evalFile))
        try Data("x".utf8).write(to: dir.appendingPathComponent("baseline.onnx"))
        let problems = try RunFolderContract.problems(in: dir)
        #expect(problems.count == 3)
        #expect(problems.contains { $0.hasPrefix("Report could not read eval.json: missing key") })
        #expect(problems.contains("eval.json: Report has a reader for it but did not load it"))
        #expect(problems.contains { $0.hasPrefix("stray.json: written to the run folder, but Report has no reader for it") })
    }

    @Test(arguments: [("charts/*.svg", "charts/loss.svg", true), ("charts/*.svg", "charts/a/loss.svg", false),
                      ("charts/*.svg", "loss.svg", false), ("*.onnx", "optimized_int8.onnx", true), ("*.onnx", "a/b.onnx", false),
                      ("optimized_teacher_*/history.json", "optimized_teacher_1/history.json", true),
                      ("optimized_teacher_*/history.json", "optimized/history.json", false), ("sla.json", "sla_optimized.json", false)])
    func patternsMatchWithinOneName(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(RunFolderContract.matches(pattern, path) == expected)
    }
}
