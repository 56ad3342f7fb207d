import ArgumentParser
import Data
import Foundation
import Models
import Train

/// `pneumo train`: the spec's training recipe with checkpoints, early stopping and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on PneumoniaMNIST (defaults: the spec's TRAINING_CONFIG).",
        discussion: "Writes best.safetensors, last.safetensors and history.json to --out. --resume continues a killed run from last.safetensors to the same result.")

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "resnet18"
    @Option(name: .customLong("input-size"), help: "Model input size in pixels (images are resized when the data differ).") var inputSize: Int?
    @Option(help: "Input channels (default: the model's; grayscale is replicated to 3 when the model wants 3).") var channels: Int?
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Epochs.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 32
    @Option(help: "Adam learning rate.") var lr: Float = 3e-4
    @Option(name: .customLong("weight-decay"), help: "Adam weight decay (L2).") var weightDecay: Float = 1e-4
    @Option(name: .customLong("lr-step"), help: "Epochs between learning-rate drops (×0.1).") var lrStep = 3
    @Option(help: "Epochs without a better val AUC before stopping.") var patience = 3
    @Option(help: "Random seed (initialisation, data order, dropout).") var seed: UInt64 = 42
    @Flag(help: "Augment training images (small rotations and shifts).") var augment = false
    @Flag(name: .customLong("class-weights"), help: "Weight the loss by inverse class frequency.") var classWeights = false
    @Option(help: "Output directory.") var out: String
    @Flag(help: "Continue from --out/last.safetensors.") var resume = false
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print a JSON summary (best_epoch, best_val_auc, seconds_per_epoch, checkpoint).") var json = false

    func validate() throws {
        guard epochs >= 1, batchSize >= 1, lrStep >= 1, patience >= 1, (channels ?? 1) >= 1 else {
            throw ValidationError("--epochs, --batch-size, --lr-step, --patience and --channels must be positive")
        }
        guard lr > 0, lr.isFinite, weightDecay >= 0, weightDecay.isFinite else {
            throw ValidationError("--lr must be positive and --weight-decay non-negative")
        }
        try OutputPath.directory(out, "--out")
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        _ = try ModelZoo.layer(model, channels: channels)
    }

    func run() throws {
        let backend = try engine.makeBackend()
        let data = try dataset.open(preferredSize: inputSize)
        let train = try data.split(.train), val = try data.split(.val)
        let descriptor = ModelDescriptor(model: model, inputSize: inputSize ?? train.height, channels: channels ?? ModelZoo.defaultChannels(model))
        var config = TrainingConfig()
        config.epochs = epochs; config.batchSize = batchSize; config.learningRate = lr; config.weightDecay = weightDecay
        config.lrStep = lrStep; config.patience = patience; config.seed = seed; config.augment = augment
        config.classWeights = classWeights
        var trainer = Trainer(descriptor: descriptor, config: config, outputDirectory: URL(fileURLWithPath: out), backend: backend)
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
