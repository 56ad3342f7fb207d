import ArgumentParser
import Data
import FileSafety
import Foundation
import ClinicalMetrics
import Models
import NN
import Train

extension ThresholdRule: ExpressibleByArgument {}

/// `pneumo cv`: k-fold cross-validation of a model and training recipe on train + val pooled.
struct CVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "Cross-validate a model and training recipe: per-fold and mean ± sd AUC, sensitivity and specificity.",
        discussion: """
            Pools train and val, deals them into --folds stratified folds (seeded), and for each fold i trains on all \
            but folds i and i + 1, early-stops and calibrates on fold i + 1, chooses the operating threshold there by \
            --threshold-rule, and reports fold i: AUC with DeLong's 95% interval, sensitivity and specificity at that \
            threshold with Wilson intervals, Brier score and ECE. Each fold's checkpoints go to --out/fold-N.
            """)

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "pneumonet"
    @Option(name: .customLong("input-size"), help: "Model input size in pixels (default: the data's).") var inputSize: Int?
    @Option(help: "Input channels (default: the model's).") var channels: Int?
    @Option(help: "Number of folds (at least 3).") var folds = 5
    @Option(name: .customLong("fold-seed"), help: "Seed of the fold assignment (the same seed gives the same folds).") var foldSeed: UInt64 = 42
    @Option(name: .customLong("target-sensitivity"), help: "Sensitivity the operating threshold must reach.") var targetSensitivity = 0.98
    @Option(name: .customLong("threshold-rule"), help: "How the threshold is chosen on the val fold: \(ThresholdRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var thresholdRule = ThresholdRule.wilsonLowerBound
    @Flag(help: "Average P(pneumonia) over test-time augmented views (original, ±5°, zoom 1.08 and 0.93).") var tta = false
    @Option(name: .customLong("distill-ensemble"), help: "Distil each fold's model from this many teachers trained first on the fold (0: none).")
    var distillEnsemble = 0
    @Option(name: .customLong("teacher-model"), help: "The teachers' model (trained with the same recipe).") var teacherModel = "resnet18"
    @Option(name: .customLong("teacher-epochs"), help: "Epochs of each teacher (default: the recipe's).") var teacherEpochs: Int?
    @OptionGroup var distill: DistillationOptions
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Directory for each fold's checkpoints.") var out: String
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print JSON (per_fold, auc/sensitivity/specificity as mean and sd, pooled figures).") var json = false

    func validate() throws {
        guard folds >= 3 else { throw ValidationError("--folds must be at least 3 (one to test, one for val, one to train), got \(folds)") }
        guard targetSensitivity > 0, targetSensitivity <= 1 else { throw ValidationError("--target-sensitivity must be in (0, 1], got \(targetSensitivity)") }
        if let channels, channels < 1 { throw ValidationError("--channels must be positive, got \(channels)") }
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        try OutputPath.directory(out, "--out")
        _ = try ModelZoo.layer(model, channels: channels)
        guard distillEnsemble >= 0 else { throw ValidationError("--distill-ensemble must be 0 or more, got \(distillEnsemble)") }
        if distillEnsemble > 0 {
            _ = try ModelZoo.layer(teacherModel)
            if let teacherEpochs, teacherEpochs < 1 { throw ValidationError("--teacher-epochs must be positive, got \(teacherEpochs)") }
        }
    }

    /// Holds --out for the whole run: a second writer is refused by name (OutputLock).
    func run() throws {
        try OutputLock.holding(URL(fileURLWithPath: out)) { try crossValidate() }
    }

    private func crossValidate() throws {
        let backend = try engine.makeBackend()
        let data = try dataset.open(preferredSize: inputSize)
        let train = try data.split(.train), val = try data.split(.val)
        let descriptor = ModelDescriptor(model: model, inputSize: inputSize ?? train.height, channels: channels ?? ModelZoo.defaultChannels(model))
        var options = CrossValidation.Options()
        options.folds = folds; options.seed = foldSeed; options.targetSensitivity = targetSensitivity
        options.rule = thresholdRule; options.testTimeAugmentation = tta
        if distillEnsemble > 0 {
            var teacherConfig = training.config
            if let teacherEpochs { teacherConfig.epochs = teacherEpochs }
            options.ensemble = .init(model: teacherModel, channels: descriptor.channels, count: distillEnsemble, config: teacherConfig,
                                     temperature: distill.temperature, alpha: distill.alpha)
        }
        var cv = CrossValidation(descriptor: descriptor, recipe: training.recipe.rawValue, config: training.config, options: options,
                                 outputDirectory: URL(fileURLWithPath: out), backend: backend)
        cv.log = { FileHandle.standardError.write(Data(("cv: " + $0 + "\n").utf8)) }
        let result = try cv.run(train: train, val: val)
        try AtomicFile.write(try result.prettyJSON(), to: URL(fileURLWithPath: out).appendingPathComponent("cv.json"))
        print(json ? try result.jsonString() : result.table())
    }
}
