import ClinicalMetrics
import FileSafety
import Foundation
import Pipeline
import Testing
import TestSupport
import Train

/// A run whose val split is too small for its threshold rule stops before it trains anything, naming how many
/// pneumonia cases the rule needs: it used to fail at the first evaluation, after the baseline's training.
@Suite struct ThresholdRuleGateTests {
    @Test func pipelineStopsBeforeTrainingWhenValIsTooSmallForTheRule() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = RunFolderContractTests.tinyOptions
        options.thresholdRule = .wilsonLowerBound
        options.targetSensitivity = 0.98
        let dataset = try syntheticDataset(train: 48, val: 30, test: 30)   // 20 pneumonia cases on val
        let error = #expect(throws: TrainingError.self) {
            try RunFolderContractTests.pipeline(writingTo: dir, options: options) { _ = try $0.run(dataset: dataset) }
        }
        #expect(error?.description.contains("at least 189") == true && error?.description.contains("it has 20") == true,
                "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("baseline").path))
    }

    @Test func crossValidationStopsBeforeTheFirstFold() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = CrossValidation.Options()
        options.folds = 3; options.rule = .wilsonLowerBound; options.targetSensitivity = 0.98
        var config = TrainingConfig()
        config.epochs = 1; config.batchSize = 16
        let cv = CrossValidation(descriptor: ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1), recipe: "spec",
                                 config: config, options: options, outputDirectory: dir, backend: testBackend)
        let error = #expect(throws: TrainingError.self) {
            _ = try cv.run(train: try syntheticSplit(.train, count: 60, seed: 5), val: try syntheticSplit(.val, count: 30, seed: 6))
        }
        #expect(error?.description.contains("val (fold") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("fold-1").path))
    }
}
