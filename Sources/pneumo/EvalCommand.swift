import ArgumentParser
import Data
import Foundation
import GraphCore
import ClinicalMetrics
import Models
import Train

/// `pneumo eval`: the spec's `evaluate_with_multiple_thresholds`, plus the threshold that reaches a
/// target sensitivity, chosen on the val split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint at several thresholds: sensitivity, specificity, precision, F1, accuracy, AUC.",
        discussion: """
            As the spec's evaluate_with_multiple_thresholds: the test split at thresholds 0.4 and 0.7 by default; a file \
            without a test split is evaluated on val, and the output says so. --subset N evaluates on 15% of N test \
            images (and chooses any threshold on 15% of N val images), stratified with the fixed seed train --subset \
            uses. The data-loading time is printed (and is data_loading in --json).
            """)

    @Option(help: "A checkpoint written by pneumo train.") var checkpoint: String
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var subset: SubsetOption
    @Option(help: "Split to report: val or test (default: the spec's test, or val where the file has no test split).") var split: String?
    @Option(help: "Comma-separated decision thresholds.") var thresholds = "0.4,0.7"
    @Option(name: .customLong("target-sensitivity"), help: "Also report the largest threshold reaching this sensitivity on the val split.")
    var targetSensitivity: Double?
    @Option(name: .customLong("threshold-rule"), help: "How that threshold is chosen on val: \(ThresholdRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var thresholdRule = ThresholdRule.wilsonLowerBound
    @Option(help: ArgumentHelp("A second checkpoint to compare on the same images: DeLong's paired test of the AUCs.", valueName: "file"))
    var compare: String?
    @Option(name: .customLong("batch-size"), help: "Batch size for inference.") var batchSize = 128
    @Flag(help: "Test-time augmentation: average P(pneumonia) over the original, ±5° and zoom 1.08 / 0.93 views (the threshold is chosen on val the same way).")
    var tta = false
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print JSON (auc, ci95, thresholds with their ci95, target, calibration, operating_curve, data_loading, spec_differences).") var json = false

    var parsedThresholds: [Double] { CommaList.parse(thresholds) { Double($0) } ?? [] }

    func validate() throws {
        if let split, !["val", "test"].contains(split) { throw ValidationError("--split must be val or test, got \(split)") }
        guard let values = CommaList.parse(thresholds, { Double($0) }), values.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--thresholds must be comma-separated numbers in [0, 1], got '\(thresholds)'")
        }
        if let t = targetSensitivity, !(t > 0 && t <= 1) { throw ValidationError("--target-sensitivity must be in (0, 1], got \(t)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be positive") }
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw ValidationError("--checkpoint: no such file: \(checkpoint)") }
        if let compare, !FileManager.default.fileExists(atPath: compare) { throw ValidationError("--compare: no such file: \(compare)") }
    }

    func run() throws {
        let backend = try engine.makeBackend()
        let (ckpt, data, evaluation) = try evaluate(backend: backend)
        if !json { print(data.summary) }
        guard let compare else {
            print(json ? try evaluation.jsonString() : evaluation.table())
            return
        }
        let other = try Checkpoint.read(URL(fileURLWithPath: compare))
        let comparison = try ModelComparison.run((checkpoint, ckpt), (compare, other), dataset: data, split: Split(rawValue: evaluation.split)!,
                                                 batchSize: batchSize, backend: backend)
        if json {
            print(try EvaluationWithComparison(evaluation: evaluation, comparison: comparison).jsonString())
        } else {
            print(evaluation.table() + "\n" + comparison.table())
        }
    }

    /// The checkpoint, the images and the evaluation `run` prints.
    func evaluate(backend: any Backend) throws -> (Checkpoint, LoadedSplits, ClinicalEvaluation) {
        let ckpt = try Checkpoint.read(URL(fileURLWithPath: checkpoint))
        let start = ContinuousClock.now
        let file = try dataset.open(preferredSize: ckpt.descriptor.input_size)
        // An explicit --split must exist (the file's own error says so); the default falls back to val, saying so.
        let (reported, fallback) = split.map { (Split(rawValue: $0)!, nil) } ?? SpecDefaults.evaluationSplit(available: file.availableSplits)
        let data = try LoadedSplits.load(file, splits: [reported, .val], subset: try subset.value, since: start)
        var evaluation = try ClinicalEvaluation.run(checkpoint: ckpt, dataset: data, split: reported,
                                                    thresholds: parsedThresholds, targetSensitivity: targetSensitivity, rule: thresholdRule,
                                                    batchSize: batchSize, testTimeAugmentation: tta ? .standard : nil, backend: backend)
        evaluation.data_loading = data.report
        evaluation.spec_differences = [fallback].compactMap { $0 } + (targetSensitivity == nil ? [] : [thresholdRule.specDifference].compactMap { $0 })
            + data.notes
        return (ckpt, data, evaluation)
    }
}
