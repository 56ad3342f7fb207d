import Data
import Foundation

/// The training recipe. Defaults are the spec's `TRAINING_CONFIG`: 10 epochs, Adam lr 3e-4, weight
/// decay 1e-4, step LR every 3 epochs (γ 0.1), early stopping after 3 epochs without a better val AUC,
/// batch 32; no augmentation, label smoothing or weight averaging (`TrainingRecipe` names the ones that
/// cross-validation compares).
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var epochs = 10
    public var batchSize = 32
    public var learningRate: Float = 3e-4
    public var weightDecay: Float = 1e-4
    public var lrStep = 3
    public var lrGamma: Float = 0.1
    public var patience = 3
    public var seed: UInt64 = 42
    /// Augment training images with `augmentation` (no flips: chest X-rays are not symmetric).
    public var augment = false
    public var augmentation = Augmentation.standard
    /// ε of label-smoothed cross-entropy (PyTorch's `label_smoothing`); 0 is plain cross-entropy.
    public var labelSmoothing: Float = 0
    /// Validate and keep the exponential moving average of the weights with this decay (`WeightAverage`);
    /// nil trains and keeps the weights themselves.
    public var emaDecay: Float?
    /// Weight the loss by inverse class frequency (PneumoniaMNIST is about 1:2.9 normal:pneumonia).
    public var classWeights = false

    public init() {}
}

/// One epoch's record in `history.json`.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learning_rate: Double
    public var train_loss: Double
    public var train_accuracy: Double
    public var val_loss: Double
    public var val_accuracy: Double
    /// nil (`null` in JSON, "AUC undefined" on screen) where val holds one class: there is no pair of a
    /// positive and a negative to rank. (It used to be written as 0, which reads as a perfectly wrong model.)
    public var val_auc: Double?
    public var seconds: Double

    public init(epoch: Int, learning_rate: Double, train_loss: Double, train_accuracy: Double, val_loss: Double,
                val_accuracy: Double, val_auc: Double?, seconds: Double) {
        self.epoch = epoch; self.learning_rate = learning_rate; self.train_loss = train_loss; self.train_accuracy = train_accuracy
        self.val_loss = val_loss; self.val_accuracy = val_accuracy; self.val_auc = val_auc; self.seconds = seconds
    }

    /// "AUC 0.9712" or "AUC undefined", for progress lines.
    public var aucText: String { val_auc.map { String(format: "AUC %.4f", $0) } ?? "AUC undefined" }

    private enum CodingKeys: String, CodingKey {
        case epoch, learning_rate, train_loss, train_accuracy, val_loss, val_accuracy, val_auc, seconds
    }

    /// Writes an undefined AUC as an explicit `null` (the synthesized encoder would drop the key, and a
    /// reader could not tell "undefined" from "not recorded").
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(learning_rate, forKey: .learning_rate)
        try c.encode(train_loss, forKey: .train_loss)
        try c.encode(train_accuracy, forKey: .train_accuracy)
        try c.encode(val_loss, forKey: .val_loss)
        try c.encode(val_accuracy, forKey: .val_accuracy)
        try c.encode(val_auc, forKey: .val_auc)
        try c.encode(seconds, forKey: .seconds)
    }
}

/// What `pneumo train --json` prints.
public struct TrainingSummary: Codable, Sendable {
    public var best_epoch: Int
    /// The best epoch's val AUC; nil (`null`) where val holds one class, and the best epoch is then the one
    /// with the lowest val loss (`BestEpoch`).
    public var best_val_auc: Double?
    /// Temperature scaling fitted on val for the best checkpoint (stored in it); nil where undefined.
    public var temperature: Double?
    public var seconds_per_epoch: Double
    /// The best checkpoint's path.
    public var checkpoint: String
    public var last_checkpoint: String
    public var epochs_run: Int
    public var stopped_early: Bool
    public var history: [EpochRecord]
    /// How the images were loaded, and how long it took (`pneumo train` sets it; absent otherwise).
    public var data_loading: DataLoadingReport? = nil
    /// Where this run differs from the spec's defaults, and why (`pneumo train` sets it; absent otherwise).
    public var spec_differences: [String]? = nil
    /// What `--init` loaded (`init`; null without it).
    public var initialization: InitialWeights.Report? = nil

    /// "AUC 0.9712", or "AUC undefined (chosen by val loss)", for summary lines.
    public var bestText: String { best_val_auc.map { String(format: "AUC %.4f", $0) } ?? "AUC undefined (chosen by val loss)" }

    private enum CodingKeys: String, CodingKey {
        case best_epoch, best_val_auc, temperature, seconds_per_epoch, checkpoint, last_checkpoint, epochs_run, stopped_early, history
        case data_loading, spec_differences
        case initialization = "init"
    }

    /// Undefined values as explicit `null`s, as in `EpochRecord`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(best_epoch, forKey: .best_epoch)
        try c.encode(best_val_auc, forKey: .best_val_auc)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(seconds_per_epoch, forKey: .seconds_per_epoch)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(last_checkpoint, forKey: .last_checkpoint)
        try c.encode(epochs_run, forKey: .epochs_run)
        try c.encode(stopped_early, forKey: .stopped_early)
        try c.encode(history, forKey: .history)
        try c.encodeIfPresent(data_loading, forKey: .data_loading)
        try c.encodeIfPresent(spec_differences, forKey: .spec_differences)
        try c.encode(initialization, forKey: .initialization)
    }
}
