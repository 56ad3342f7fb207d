import ArgumentParser
import Data
import Deploy
import Foundation
import GraphCore
import Profile
import Testing
import Train
import TestSupport
@testable import pneumo

/// The spec's defaults on the command line (#21): one GFLOPs convention in `profile` and `sla`, 100/10 profiling runs
/// on a real val batch, the test split at 0.4/0.7 with a said fallback, the SLA's 98%.
@Suite struct SpecDefaultsTests {
    static func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func defaultsAreTheSpecs() throws {
        let profile = try ProfileCommand.parse(["--model", "pneumonet"])
        #expect(profile.runs == 100 && profile.warmup == 10 && profile.batch == 32)
        let eval = try EvalCommand.parse(["--checkpoint", "/dev/null"])
        #expect(eval.split == nil && eval.parsedThresholds == [0.4, 0.7])
        #expect(try SLACommand.parse(["--model", "pneumonet"]).split == nil)
        #expect(try OptimizeCommand.parse(["--checkpoint", "/dev/null", "--recipe", "exact", "--out", "/tmp/x"]).targetSensitivity == 0.98)
        #expect(try PipelineCommand.parse(["--out", "/tmp/x"]).targetSensitivity == 0.98)
    }

    @Test func trainSaysWhereItDepartsFromTheSpec() throws {
        let plain = try TrainCommand.parse(["--out", "/tmp/x"])
        #expect(plain.specDifferences(dataSize: 28, notes: ["n"]) == [
            "size 64 not in file; using 28",
            "recipe \(TrainingRecipe.default.rawValue) (the default: the one cross-validation preferred), not the spec's TRAINING_CONFIG (--recipe spec)",
            "n"])
        #expect(plain.specDifferences(dataSize: 64, notes: []).count == 1)
        #expect(try TrainCommand.parse(["--out", "/tmp/x", "--recipe", "spec", "--input-size", "28"]).specDifferences(dataSize: 28, notes: []) == [])
    }

    /// The acceptance check of #21: `profile` and `sla` on the same ONNX file print the same `gflops_per_sample`.
    @Test func profileAndSLAPrintTheSameGFLOPs() throws {
        let dir = try temporaryDirectory("cli-gflops")
        defer { try? FileManager.default.removeItem(at: dir) }
        let onnx = dir.appendingPathComponent("m.onnx").path
        try ExportCommand.parse(["--model", "pneumonet", "--input-size", "28", "--out", onnx, "--dynamic-batch"]).run()
        let data = try medMNISTFile(in: dir, test: false)
        let profile = try ProfileCommand.parse(["--onnx", onnx, "--data", data, "--runs", "2", "--warmup", "0", "--sweep", "1", "--batch", "3"])
            .profile()
        let card = try SLACommand.parse(["--onnx", onnx, "--data", data, "--runs", "2", "--target-sensitivity", "0.5",
                                         "--threshold-rule", "val-sensitivity"]).scorecard()
        let printed = (try Self.jsonObject(try profile.jsonString()), try Self.jsonObject(try card.jsonString()))
        let gflops = try #require(printed.0["gflops_per_sample"] as? Double)
        #expect(gflops == printed.1["gflops_per_sample"] as? Double)
        #expect(gflops == Double(profile.macs_per_sample) / 1e9)
        for key in ["macs_per_sample", "flops_per_sample"] {
            #expect(printed.0[key] as? Int == printed.1[key] as? Int, "\(key)")
        }
        // Timed on the spec's sample batch (val's first images), not random numbers.
        #expect(profile.timing_input == "the first 3 val images of \(data)")
        #expect(profile.spec_differences == ["timed 2 runs after 0 warm-ups; the spec times 100 after 10"])
        // No test split: the scorecard says so and reports val.
        #expect(card.split == "val" && card.spec_differences == ["no test split in this file; evaluating on val"])
        #expect(card.table().contains("note: no test split in this file; evaluating on val"))
    }

    /// `eval` on the spec's split, falling back (and saying so) where the file has none.
    @Test func evalSplitFallback() throws {
        let dir = try temporaryDirectory("cli-eval")
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)
        let checkpoint = dir.appendingPathComponent("m.safetensors")
        try Checkpoint(descriptor: d, parameters: try d.graph(seed: 3).parameters, info: [:]).write(to: checkpoint)
        let backend = try EngineOptions.parse([]).makeBackend()
        let noTest = try medMNISTFile(in: dir, test: false), withTest = try medMNISTFile(in: dir, test: true)

        let (_, loaded, fallback) = try EvalCommand.parse(["--checkpoint", checkpoint.path, "--data", noTest]).evaluate(backend: backend)
        #expect(fallback.split == "val" && fallback.samples == 24)
        #expect(fallback.spec_differences == ["no test split in this file; evaluating on val"])
        #expect(fallback.thresholds.map(\.threshold) == [0.4, 0.7])
        #expect(fallback.data_loading == loaded.report && loaded.report.images == ["val": 24] && loaded.seconds > 0)
        #expect(fallback.table().contains("note: no test split in this file; evaluating on val"))

        // Asked for by name, a split the file lacks is an error, not a fallback.
        let error = #expect(throws: DataError.self) {
            _ = try EvalCommand.parse(["--checkpoint", checkpoint.path, "--data", noTest, "--split", "test"]).evaluate(backend: backend)
        }
        #expect(error?.message.contains("no 'test' split") == true)

        // The spec's test split where the file has one: nothing to say.
        let (_, _, onTest) = try EvalCommand.parse(["--checkpoint", checkpoint.path, "--data", withTest]).evaluate(backend: backend)
        #expect(onTest.split == "test" && onTest.samples == 24 && onTest.spec_differences == [])
    }
}

