import Data
import Foundation
import ClinicalMetrics
import Models
import NN

/// K-fold cross-validation of a training recipe on train + val pooled, the way a recipe is judged here
/// (never by one val split of 524 images).
///
/// Fold i is held out as the test fold; fold i + 1 (mod K) plays val (early stopping, the temperature and
/// the operating threshold, chosen by `rule` exactly as the pipeline chooses them); the other K − 2 folds
/// train. So every figure on a test fold comes from a model and a threshold that never saw it.
public struct CrossValidation {
    public struct Options: Sendable {
        public var folds = 5
        public var seed: UInt64 = 42
        public var targetSensitivity = 0.98
        public var rule = ThresholdRule.wilsonLowerBound
        public var testTimeAugmentation = false
        /// Distil each fold's model from an ensemble trained first on the same fold (nil: no distillation).
        public var ensemble: EnsembleDistillation?
        public init() {}
    }

    /// The teachers of ensemble distillation: `count` models of `model`, trained with `config` on the fold's
    /// own train and val (seeds `config.seed + 1 …`), then the student learns from their mean softmax.
    public struct EnsembleDistillation: Codable, Sendable {
        public var model: String
        public var channels: Int
        public var count: Int
        public var config: TrainingConfig
        public var temperature: Float
        public var alpha: Float

        public init(model: String, channels: Int, count: Int, config: TrainingConfig, temperature: Float, alpha: Float) {
            self.model = model; self.channels = channels; self.count = count; self.config = config
            self.temperature = temperature; self.alpha = alpha
        }
    }

    public struct Fold: Codable, Sendable {
        public var fold: Int
        public var train: Int
        public var val: Int
        public var test: Int
        public var best_epoch: Int
        public var epochs_run: Int
        public var temperature: Double?
        public var threshold: Double
        public var auc: Double
        public var auc_ci95: ConfidenceInterval?
        public var sensitivity: Double
        public var sensitivity_ci95: ConfidenceInterval?
        public var specificity: Double
        public var specificity_ci95: ConfidenceInterval?
        public var brier: Double
        public var ece: Double
        /// The test fold under `AcquisitionShift.views`, at the same threshold: mean over the views.
        public var shifted_auc: Double
        public var shifted_sensitivity: Double
        public var shifted_specificity: Double
        public var seconds: Double
    }

    /// Mean and sample standard deviation over folds.
    public struct Spread: Codable, Sendable {
        public var mean: Double
        public var sd: Double

        init(_ values: [Double]) {
            let m = values.reduce(0, +) / Double(values.count)
            mean = m
            sd = values.count > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot() : 0
        }
    }

    public struct Result: Codable, Sendable {
        public var model: String
        public var input_size: Int
        public var recipe: String
        public var config: TrainingConfig
        public var folds: Int
        public var seed: UInt64
        public var images: Int
        public var target_sensitivity: Double
        public var threshold_rule: String
        public var test_time_augmentation: Bool
        public var distillation: EnsembleDistillation?
        public var per_fold: [Fold]
        public var auc: Spread
        public var sensitivity: Spread
        public var specificity: Spread
        public var brier: Spread
        public var ece: Spread
        public var shifted_auc: Spread
        public var shifted_sensitivity: Spread
        public var shifted_specificity: Spread
        /// Every image's out-of-fold score pooled: AUC with its DeLong interval; sensitivity and specificity
        /// from the summed confusion matrices at each fold's own threshold.
        public var pooled_auc: Double
        public var pooled_auc_ci95: ConfidenceInterval?
        public var pooled_sensitivity: Double
        public var pooled_specificity: Double
        public var seconds: Double
    }

    public var descriptor: ModelDescriptor
    public var recipe: String
    public var config: TrainingConfig
    public var options: Options
    public var outputDirectory: URL
    public var backend: any Backend
    public var log: (String) -> Void = { _ in }

    public init(descriptor: ModelDescriptor, recipe: String, config: TrainingConfig, options: Options, outputDirectory: URL,
                backend: any Backend) {
        self.descriptor = descriptor; self.recipe = recipe; self.config = config; self.options = options
        self.outputDirectory = outputDirectory; self.backend = backend
    }

    public func run(train: ImageSplit, val: ImageSplit) throws -> Result {
        let started = Date()
        guard options.folds >= 3 else { throw TrainingError("cross-validation needs at least 3 folds (one to test, one for val, one to train)") }
        let pool = try train.concatenated(with: val, as: .train)
        let folds = try StratifiedFolds(labels: pool.labels, folds: options.folds, seed: options.seed)
        // Each fold is some other fold's val split: one too small for the rule stops the run before any training.
        for (i, fold) in folds.folds.enumerated() {
            if let why = options.rule.shortfall(forSensitivity: options.targetSensitivity,
                                                positives: fold.count(where: { pool.labels[$0] == 1 }), split: "val (fold \(i + 1))") {
                throw TrainingError("\(options.folds) folds of \(pool.count) images: " + why)
            }
        }
        let preprocessing = try Preprocessing(size: descriptor.input_size, channels: descriptor.channels)
        var results: [Fold] = []
        var pooledScores: [Double] = [], pooledLabels: [Int] = []
        var pooledConfusion = ConfusionMatrix(truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0)
        for i in 0..<folds.count {
            let foldStarted = Date()
            let j = (i + 1) % folds.count
            let trainIndices = (0..<folds.count).filter { $0 != i && $0 != j }.flatMap { folds.folds[$0] }.sorted()
            let (trainSplit, valSplit, testSplit) = (try pool.subset(trainIndices, as: .train), try pool.subset(folds.folds[j], as: .val),
                                                     try pool.subset(folds.folds[i], as: .test))
            let foldDirectory = outputDirectory.appendingPathComponent("fold-\(i + 1)")
            var trainer = Trainer(descriptor: descriptor, config: config, outputDirectory: foldDirectory, backend: backend)
            trainer.showProgress = false
            if let e = options.ensemble {
                trainer.distillation = try Distillation.trainingEnsemble(
                    of: ModelDescriptor(model: e.model, inputSize: descriptor.input_size, channels: e.channels), config: e.config,
                    count: e.count, train: trainSplit, val: valSplit, directory: { foldDirectory.appendingPathComponent("teacher-\($0)") },
                    temperature: e.temperature, alpha: e.alpha, backend: backend) { $0.showProgress = false }
            }
            let summary = try trainer.run(train: trainSplit, val: valSplit)
            let best = try Checkpoint.read(URL(fileURLWithPath: summary.checkpoint))
            let scaling = try best.temperatureScaling()
            let graph = try best.graph().appendingLoss()
            func predict(_ s: ImageSplit) throws -> Predictions {
                var p = options.testTimeAugmentation
                    ? try TestTimeAugmentation.standard.predict(graph: graph, parameters: best.parameters, split: s,
                                                                preprocessing: preprocessing, batchSize: 256, backend: backend)
                    : try Evaluator.predict(graph: graph, parameters: best.parameters,
                                            loader: DataLoader(s, batchSize: 256, sampling: .sequential, preprocessing: preprocessing),
                                            backend: backend)
                p.scores = scaling.apply(p.scores)
                return p
            }
            let (v, t) = (try predict(valSplit), try predict(testSplit))
            let target = try ClinicalEvaluation.Target(goal: options.targetSensitivity, rule: options.rule, val: v, reported: t,
                                                       file: "fold \(i + 1)")
            let calibration = Calibration(scores: t.scores, labels: t.labels)
            let shifted = try AcquisitionShift.views.map { view -> (auc: Double, metrics: ThresholdMetrics) in
                var p = try TestTimeAugmentation(views: [view]).predict(graph: graph, parameters: best.parameters, split: testSplit,
                                                                        preprocessing: preprocessing, batchSize: 256, backend: backend)
                p.scores = scaling.apply(p.scores)
                return (p.auc ?? .nan, ThresholdMetrics(scores: p.scores, labels: p.labels, threshold: target.threshold))
            }
            func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
            let auc = DeLong.components(scores: t.scores, labels: t.labels)
            let fold = Fold(fold: i + 1, train: trainSplit.count, val: valSplit.count, test: testSplit.count,
                            best_epoch: summary.best_epoch, epochs_run: summary.epochs_run, temperature: summary.temperature,
                            threshold: target.threshold, auc: t.auc ?? .nan, auc_ci95: auc?.interval(),
                            sensitivity: target.sensitivity, sensitivity_ci95: target.ci95?.sensitivity,
                            specificity: target.specificity, specificity_ci95: target.ci95?.specificity,
                            brier: calibration.brier, ece: calibration.ece, shifted_auc: mean(shifted.map(\.auc)),
                            shifted_sensitivity: mean(shifted.map(\.metrics.sensitivity)),
                            shifted_specificity: mean(shifted.map(\.metrics.specificity)), seconds: Date().timeIntervalSince(foldStarted))
            results.append(fold)
            pooledScores += t.scores; pooledLabels += t.labels
            pooledConfusion.truePositives += target.confusion.truePositives
            pooledConfusion.falsePositives += target.confusion.falsePositives
            pooledConfusion.trueNegatives += target.confusion.trueNegatives
            pooledConfusion.falseNegatives += target.confusion.falseNegatives
            log(String(format: "fold %d/%d: AUC %.4f, sensitivity %.4f, specificity %.4f at threshold %.4f; shifted AUC %.4f, sensitivity %.4f, specificity %.4f (best epoch %d, %.0f s)",
                       i + 1, folds.count, fold.auc, fold.sensitivity, fold.specificity, fold.threshold, fold.shifted_auc,
                       fold.shifted_sensitivity, fold.shifted_specificity, fold.best_epoch, fold.seconds))
        }
        return Result(model: descriptor.model, input_size: descriptor.input_size, recipe: recipe, config: config, folds: folds.count,
                      seed: options.seed, images: pool.count, target_sensitivity: options.targetSensitivity,
                      threshold_rule: options.rule.rawValue, test_time_augmentation: options.testTimeAugmentation,
                      distillation: options.ensemble, per_fold: results,
                      auc: Spread(results.map(\.auc)), sensitivity: Spread(results.map(\.sensitivity)),
                      specificity: Spread(results.map(\.specificity)), brier: Spread(results.map(\.brier)), ece: Spread(results.map(\.ece)),
                      shifted_auc: Spread(results.map(\.shifted_auc)), shifted_sensitivity: Spread(results.map(\.shifted_sensitivity)),
                      shifted_specificity: Spread(results.map(\.shifted_specificity)),
                      pooled_auc: BinaryMetrics.auc(scores: pooledScores, labels: pooledLabels) ?? .nan,
                      pooled_auc_ci95: DeLong.components(scores: pooledScores, labels: pooledLabels)?.interval(),
                      pooled_sensitivity: pooledConfusion.sensitivity, pooled_specificity: pooledConfusion.specificity,
                      seconds: Date().timeIntervalSince(started))
    }
}

extension CrossValidation.Result {
    /// A terminal table: one row per fold, then mean ± sd and the pooled figures.
    public func table() -> String {
        var lines = ["\(folds)-fold cross-validation of \(model) at \(input_size) px, recipe \(recipe), on \(images) images (train + val)"
                     + (test_time_augmentation ? ", with test-time augmentation" : "")
                     + (distillation.map { ", distilled from \($0.count) × \($0.model)" } ?? ""),
                     String(format: "operating point: %@ %.3f", ThresholdRule(rawValue: threshold_rule)?.explanation ?? threshold_rule, target_sensitivity),
                     "fold  test   AUC     sensitivity  specificity  threshold  Brier   ECE     best epoch"]
        for f in per_fold {
            lines.append(String(format: "%4d  %4d   %.4f  %.4f       %.4f       %.4f     %.4f  %.4f  %d/%d", f.fold, f.test, f.auc,
                                f.sensitivity, f.specificity, f.threshold, f.brier, f.ece, f.best_epoch, f.epochs_run))
        }
        lines.append(String(format: "mean ± sd   AUC %.4f ± %.4f, sensitivity %.4f ± %.4f, specificity %.4f ± %.4f, Brier %.4f, ECE %.4f",
                            auc.mean, auc.sd, sensitivity.mean, sensitivity.sd, specificity.mean, specificity.sd, brier.mean, ece.mean))
        lines.append(String(format: "shifted     AUC %.4f ± %.4f, sensitivity %.4f ± %.4f, specificity %.4f ± %.4f (AcquisitionShift's views, same thresholds)",
                            shifted_auc.mean, shifted_auc.sd, shifted_sensitivity.mean, shifted_sensitivity.sd,
                            shifted_specificity.mean, shifted_specificity.sd))
        lines.append(String(format: "pooled      AUC %.4f%@, sensitivity %.4f, specificity %.4f (%.0f s)", pooled_auc,
                            pooled_auc_ci95.map { String(format: " [%.4f, %.4f]", $0.lower, $0.upper) } ?? "",
                            pooled_sensitivity, pooled_specificity, seconds))
        return lines.joined(separator: "\n")
    }
}
