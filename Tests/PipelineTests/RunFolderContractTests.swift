import ClinicalMetrics
import Data
import FileSafety
import Foundation
import Pipeline
import Report
import Testing
import TestSupport

/// The pipeline writes its run folder through the real writers (Train, Profile, Analysis, Deploy, ONNX), and Report
/// reads every file of it back with its own types: `RunFolderContract` says, file by file, which are for the report.
/// Models and runs are tiny (PneumoNet at 28 px, one epoch, a handful of timed runs): the contract is about files and
/// their keys, not about the numbers in them.
@Suite("Run folder contract") struct RunFolderContractTests {
    static var tinyOptions: Pipeline.Options {
        var o = Pipeline.Options()
        o.baselineModel = "pneumonet"
        o.baselineEpochs = 1
        o.optimizedEpochs = 1
        o.teachers = 1   // one teacher, so that a teacher's folder is in the contract too
        o.baselineTraining.batchSize = 16
        o.training.batchSize = 16
        o.profileRuns = 5
        o.slaRuns = 5
        o.sweep = [1, 4]
        o.slaSweep = [4]
        // 20 pneumonia cases on val can show 80% sensitivity with 95% confidence (Wilson), not the default 98%.
        o.targetSensitivity = 0.8
        return o
    }

    /// Runs `body` on a pipeline writing to `dir` as `pneumo pipeline` does: holding the folder's lock.
    static func pipeline<T>(writingTo dir: URL, options: Pipeline.Options = tinyOptions, _ body: (Pipeline) throws -> T) throws -> T {
        try OutputLock.holding(dir) { try body(Pipeline(options: options, output: dir, backend: testBackend, log: { _ in })) }
    }

    /// The charts `report` names are the files `charts/` holds, and the page has every section.
    func expectRendered(_ report: RenderedReport, in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = try RunFolderContract.files(in: dir).filter { $0.hasPrefix("charts/") }
        #expect(written == report.charts.map { "charts/\($0.name).svg" }.sorted(), sourceLocation: sourceLocation)
        for id in RunReport.sections {
            #expect(report.html.contains("<section id=\"\(id)\">"), "section \(id)", sourceLocation: sourceLocation)
        }
    }

    /// Without a dataset (`pneumo pipeline` when none is reachable): profiles, the analysis and the ONNX files only.
    @Test func pipelineWithoutDataWritesWhatReportReads() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Self.pipeline(writingTo: dir) { try $0.runWithoutData(inputSize: 28) }
        #expect(try RunFolderContract.problems(in: dir) == [])
        let run = try RunDirectory(dir)
        #expect(run.profiles.map(\.file) == ["profile_baseline.json", "profile_optimized.json"])
        #expect(run.analysis.value != nil)
        let report = RunReport.render(run)
        #expect(report.notRun == ["data", "training", "evaluation", "sla"])
        try expectRendered(report, in: dir)
    }

    /// With data (an in-memory MedMNIST file of synthetic images): every step, so every file Report looks for.
    /// Through `--subset 200` (the spec's subset_size): 140 train images asked of 48 (all used, said), 30 of val's
    /// and test's 60 each, stratified.
    @Test func pipelineOnSyntheticDataWritesWhatReportReads() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try syntheticDataset(train: 48, val: 60, test: 60)
        var options = Self.tinyOptions
        options.subset = try DataSubset(total: 200)
        let result = try Self.pipeline(writingTo: dir, options: options) { try $0.run(dataset: dataset) }
        #expect(result.report.lastPathComponent == "report.html")
        #expect(try RunFolderContract.problems(in: dir) == [])
        // Every reason still applies to a file the pipeline writes, so the list cannot outlive what it excuses.
        let files = try RunFolderContract.files(in: dir)
        for entry in RunFolderContract.notForReport {
            #expect(files.contains { RunFolderContract.matches(entry.pattern, $0) }, "no file matches \(entry.pattern)")
        }
        let run = try RunDirectory(dir)
        // profile.json is the one-command form; a pipeline writes a profile per model instead.
        #expect(run.presentFiles == RunDirectory.allFiles.filter { $0 != "profile.json" })
        #expect(run.comparison.value != nil && run.slaOptimizedInt8.value != nil)
        let report = RunReport.render(run)
        #expect(report.notRun == [])
        #expect(report.html.contains("Key findings") && report.html.contains("Recommended roadmap"))
        try expectRendered(report, in: dir)
        // results.json holds every file's content under its key.
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("results.json"))) as! [String: Any]
        #expect(Set(results.keys) == ["analysis", "baseline", "comparison", "config", "dataset_info", "optimized", "optimized_int8",
                                      "stage_seconds", "training_config"])
        let optimized = results["optimized"] as! [String: Any]
        #expect(Set(optimized.keys) == ["eval_results", "history", "model_name", "profile", "sla"])
        let sla = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("sla_optimized.json"))) as! NSDictionary
        #expect(optimized["sla"] as! NSDictionary == sla)

        // The subset, the loading time and the departures from the spec's data, in data.json and on the page.
        let data = try #require(run.data.value)
        #expect([data.splits.train?.total, data.splits.val?.total, data.splits.test?.total] == [48, 30, 30])
        #expect(data.splits.val?.pneumonia == 20)
        #expect(data.loading?.subset == 200 && (data.loading?.seconds ?? 0) > 0)
        #expect(data.loading?.notes == ["size 64 not in file; using 28",
                                        "subset: the train split holds 48 images, no more than its share 140 of 200; using all"])
        #expect(report.html.contains("Note: size 64 not in file; using 28"))
        // Profiles timed on the spec's sample batch, saying where they depart from its 100 runs after 10 warm-ups.
        let profile = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("profile_baseline.json")))
                                   as? [String: Any])
        #expect(profile["timing_input"] as? String == "the first 30 val images of synthetic.npz")
        #expect(profile["spec_differences"] as? [String] == ["timed 5 runs after 10 warm-ups; the spec times 100 after 10"])
        #expect(profile["gflops_per_sample"] as? Double == (profile["macs_per_sample"] as? Int).map { Double($0) / 1e9 })
        #expect(run.slaBaseline.value?.gflops_per_sample == run.profiles.first { $0.file == "profile_baseline.json" }?.profile.specGFLOPs)
        // The evaluation says how its threshold rule departs from the spec.
        let eval = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("eval.json"))) as? [String: Any])
        #expect(eval["spec_differences"] as? [String] == [ThresholdRule.wilsonLowerBound.specDifference!])
    }
}
