import FileSafety
import Foundation
import GraphCore
import Pipeline
import Testing
import TestSupport
import Train

/// A stopped pipeline, run again on the same folder, continues where it stopped and ends with the same models as a
/// run that was never stopped; a folder is only continued with the same settings.
@Suite("Pipeline resume") struct PipelineResumeTests {
    static var options: Pipeline.Options {
        var o = RunFolderContractTests.tinyOptions
        o.baselineEpochs = 2
        o.optimizedEpochs = 2   // teacher and student: a stop after a first epoch falls inside a stage
        return o
    }

    /// Asks the pipeline to stop once it has logged a line starting with `stopAfter` (it stops at the next epoch's
    /// end or stage's start: as Ctrl-C does in the CLI); nil runs to the end.
    static func run(_ dir: URL, options: Pipeline.Options = options, stopAfter: String? = nil,
                    log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let dataset = try syntheticDataset(train: 48, val: 30, test: 30)
        let seen = LineLog()
        try OutputLock.holding(dir) {
            var pipeline = Pipeline(options: options, output: dir, backend: testBackend) { seen.append($0); log($0) }
            if let stopAfter { pipeline.stopRequested = { seen.all.contains { $0.hasPrefix(stopAfter) } } }
            _ = try pipeline.run(dataset: dataset)
        }
    }

    static func weights(_ file: URL) throws -> [String: [Float]] {
        let c = try Checkpoint.read(file)
        return Dictionary(uniqueKeysWithValues: c.parameters.names.map { ($0, c.parameters[$0]!.scalars) })
    }

    /// The models a stopped run must end with.
    static let checkpoints = ["baseline/best.safetensors", "optimized_teacher_1/best.safetensors", "optimized/best.safetensors"]

    /// What the suite's tests compare with: one run never stopped, made once (a run is most of the suite's time).
    struct Uninterrupted: Sendable {
        let weights: [String: [String: [Float]]]
        let threshold: String?
        let log: [String]

        init() throws {
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let lines = LineLog()
            try PipelineResumeTests.run(dir, log: lines.append)
            weights = try Dictionary(uniqueKeysWithValues: checkpoints.map { ($0, try PipelineResumeTests.weights(dir.appendingPathComponent($0))) })
            threshold = try Checkpoint.read(dir.appendingPathComponent("optimized/best.safetensors")).info["threshold"]
            log = lines.all
        }
    }

    private static let shared = Result { try Uninterrupted() }
    static func uninterrupted() throws -> Uninterrupted { try shared.get() }

    /// Inside the baseline's training, between two stages, inside the distilled student's training (teachers finished).
    @Test(arguments: ["baseline epoch 1:", "baseline: best val", "pneumonet epoch 1:"])
    func stoppedRunContinuesToTheSameModels(stopAfter line: String) throws {
        let whole = try Self.uninterrupted(), stopped = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stopped) }
        let error = #expect(throws: (any Error).self) { try Self.run(stopped, stopAfter: line) }
        #expect(error is TrainingStopped || error is PipelineStopped, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: stopped.appendingPathComponent("report.html").path))
        let lines = LineLog()
        try Self.run(stopped, log: lines.append)
        #expect(lines.all.contains { $0.hasPrefix("continuing the run in") })
        for file in Self.checkpoints {
            #expect(whole.weights[file] == (try Self.weights(stopped.appendingPathComponent(file))), "\(file) differs from the uninterrupted run's")
        }
        let threshold = try Checkpoint.read(stopped.appendingPathComponent("optimized/best.safetensors")).info["threshold"]
        #expect(whole.threshold != nil && whole.threshold == threshold)
        #expect(FileManager.default.fileExists(atPath: stopped.appendingPathComponent("report.html").path))
    }

    @Test func finishedStagesAreReadBackAndOtherSettingsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir)
        let state = try JSONDecoder().decode([String: AnyCodableLeaf].self,
                                             from: Data(contentsOf: dir.appendingPathComponent("pipeline_state.json")))
        #expect(state["finished"] != nil && state["seconds"] != nil && state["settings"] != nil)
        let finished = try JSONDecoder().decode(Finished.self, from: Data(contentsOf: dir.appendingPathComponent("pipeline_state.json")))
        #expect(finished.finished.first == "baseline" && finished.finished.contains("teachers") && finished.finished.contains("optimized"))
        let lines = LineLog()
        try Self.run(dir, log: lines.append)
        #expect(lines.all.contains("sla_optimized.json: finished earlier, read back"))
        var other = Self.options
        other.baselineEpochs = 3
        let error = #expect(throws: PipelineError.self) { try Self.run(dir, options: other) }
        #expect(error?.description.contains("baseline_epochs: 2 there, 3 now") == true)
        other.restart = true
        try Self.run(dir, options: other)
        let history = try JSONDecoder().decode([EpochRecord].self, from: Data(contentsOf: dir.appendingPathComponent("history.json")))
        #expect(history.count == 3)
    }

    @Test func trainingStagesReportTheirPaceAndTheJobs() throws {
        let log = try Self.uninterrupted().log
        let baseline = log.first { $0.hasPrefix("baseline: ") && $0.contains("left in this stage") }
        #expect(baseline?.contains("of training left in the job") == true, "\(log)")
        #expect(log.contains { $0.hasPrefix("pneumonet: ") && $0.contains("the job's last training stage") })
    }
}

final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

struct Finished: Decodable { let finished: [String] }

/// Any JSON value, kept only as "present" (the test reads keys, not values).
struct AnyCodableLeaf: Decodable {
    init(from decoder: Decoder) throws {}
}
