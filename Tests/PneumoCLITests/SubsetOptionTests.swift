import ArgumentParser
import Data
import Foundation
import GraphCore
import Testing
import Train
import TestSupport
@testable import pneumo

/// `--subset N` (the spec's subset_size) in `train`, `eval` and `pipeline`, and the data-loading time (#21 item 4).
@Suite struct SubsetOptionTests {
    @Test func subsetIsCheckedWhereItIsTaken() throws {
        #expect(try TrainCommand.parse(["--out", "/tmp/x", "--subset", "7"]).subset.total == 7)
        #expect(try EvalCommand.parse(["--checkpoint", "/dev/null", "--subset", "1000"]).subset.total == 1000)
        #expect(try PipelineCommand.parse(["--out", "/tmp/x", "--subset", "500"]).subset.total == 500)
        for parse in [{ _ = try TrainCommand.parse(["--out", "/tmp/x", "--subset", "6"]) },
                      { _ = try EvalCommand.parse(["--checkpoint", "/dev/null", "--subset", "-1"]) },
                      { _ = try PipelineCommand.parse(["--out", "/tmp/x", "--subset", "100", "--train-subset", "10"]) }] as [() throws -> Void] {
            #expect(throws: (any Error).self) { try parse() }
        }
        do {
            _ = try TrainCommand.parse(["--out", "/tmp/x", "--subset", "6"])
            Issue.record("--subset 6 was accepted")
        } catch {
            #expect(TrainCommand.message(for: error).contains("--subset must be at least 7"))
        }
    }

    /// What `train` and `pipeline` load: 70% of N from train, 15% from val, timed.
    @Test func datasetOptionsLoadTheSubset() throws {
        let dir = try temporaryDirectory("cli-subset")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try medMNISTFile(in: dir, test: true)
        let data = try DatasetOptions.parse(["--data", file]).load(preferredSize: nil, splits: [.train, .val],
                                                                  subset: try SubsetOption.parse(["--subset", "40"]))
        #expect(data.splits.map(\.count) == [28, 6] && data.report.subset == 40 && data.seconds > 0)
        #expect(data.summary.hasPrefix("data: 28 train, 6 val images of 28×28 (subset 40: "))
        // Without --subset, every image.
        let all = try DatasetOptions.parse(["--data", file]).load(preferredSize: nil, splits: [.train, .val], subset: try SubsetOption.parse([]))
        #expect(all.splits.map(\.count) == [30, 24] && all.report.subset == nil)
    }

    /// `eval --subset 40`: 15% of 40 = 6 test and 6 val images, stratified (2 normal, 4 pneumonia), the loading timed.
    @Test func evalOnASubset() throws {
        let dir = try temporaryDirectory("cli-eval-subset")
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)
        let checkpoint = dir.appendingPathComponent("m.safetensors")
        try Checkpoint(descriptor: d, parameters: try d.graph(seed: 3).parameters, info: [:]).write(to: checkpoint)
        let file = try medMNISTFile(in: dir, test: true)
        let (_, data, evaluation) = try EvalCommand.parse(["--checkpoint", checkpoint.path, "--data", file, "--split", "test", "--subset", "40"])
            .evaluate(backend: try EngineOptions.parse([]).makeBackend())
        #expect(evaluation.split == "test" && evaluation.samples == 6)
        #expect(data.report.subset == 40 && data.report.images == ["val": 6, "test": 6])
        #expect(try data.split(.test).classCounts == [2, 4])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try evaluation.jsonString().utf8)) as? [String: Any])
        let loading = try #require(json["data_loading"] as? [String: Any])
        #expect(loading["subset"] as? Int == 40 && (loading["seconds"] as? Double ?? 0) > 0)
    }
}
