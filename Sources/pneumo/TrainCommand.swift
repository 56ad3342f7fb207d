import ArgumentParser
import Data
import Foundation
import Models
import Train

/// `pneumo train`: the spec's training recipe with checkpoints, early stopping and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on PneumoniaMNIST (default: the recipe cross-validation preferred; --recipe spec for the spec's TRAINING_CONFIG).",
        discussion: "Writes best.safetensors (with the temperature fitted on val), last.safetensors and history.json to --out. --resume continues a killed run from last.safetensors to the same result.")

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "resnet18"
    @Option(name: .customLong("input-size"), help: "Model input size in pixels (images are resized when the data differ).") var inputSize: Int?
    @Option(help: "Input channels (default: the model's; grayscale is replicated to 3 when the model wants 3).") var channels: Int?
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Output directory.") var out: String
    @Flag(help: "Continue from --out/last.safetensors.") var resume = false
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print a JSON summary (best_epoch, best_val_auc, seconds_per_epoch, checkpoint).") var json = false

    func validate() throws {
        if let channels, channels < 1 { throw ValidationError("--channels must be positive, got \(channels)") }
        try OutputPath.directory(out, "--out")
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        _ = try ModelZoo.layer(model, channels: channels)
    }

    func run() throws {
        let backend = try engine.makeBackend()
        let data = try dataset.open(preferredSize: inputSize)
        let train = try data.split(.train), val = try data.split(.val)
        let descriptor = ModelDescriptor(model: model, inputSize: inputSize ?? train.height, channels: channels ?? ModelZoo.defaultChannels(model))
        var trainer = Trainer(descriptor: descriptor, config: training.config, outputDirectory: URL(fileURLWithPath: out), backend: backend)
        trainer.showProgress = !json
        let summary = try trainer.run(train: train, val: val, resume: resume)
        if json {
            print(try summary.jsonString())
        } else {
            print(String(format: "best val AUC %.4f at epoch %d (%d epochs, %.1f s each%@); best checkpoint: %@",
                         summary.best_val_auc, summary.best_epoch, summary.epochs_run, summary.seconds_per_epoch,
                         summary.stopped_early ? ", stopped early" : "", summary.checkpoint))
        }
    }
}
