import Data

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
    public var val_auc: Double
    public var seconds: Double
}

/// What `pneumo train --json` prints.
public struct TrainingSummary: Codable, Sendable {
    public var best_epoch: Int
    public var best_val_auc: Double
    /// Temperature scaling fitted on val for the best checkpoint (stored in it); nil where undefined.
    public var temperature: Double?
    public var seconds_per_epoch: Double
    /// The best checkpoint's path.
    public var checkpoint: String
    public var last_checkpoint: String
    public var epochs_run: Int
    public var stopped_early: Bool
    public var history: [EpochRecord]
}
