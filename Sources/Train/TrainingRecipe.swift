import Data

/// Named training recipes that cross-validation compares (`pneumo cv --recipe`), each a change to the
/// spec's `TrainingConfig` (which `spec` keeps as it is). Flags of `pneumo train` and `pneumo cv` can
/// adjust any of them further.
public enum TrainingRecipe: String, CaseIterable, Codable, Sendable {
    /// The spec's TRAINING_CONFIG: no augmentation, plain cross-entropy, the last weights.
    case spec
    /// Rotations and shifts (`Augmentation.standard`).
    case geometric
    /// Rotations, shifts, zoom, brightness and contrast (`Augmentation.radiograph`).
    case radiograph
    /// `radiograph` with label smoothing ε = 0.1.
    case radiographSmoothed = "radiograph-ls"
    /// `radiograph` keeping the exponential moving average of the weights (decay 0.998).
    case radiographAveraged = "radiograph-ema"
    /// `radiograph` with both label smoothing and weight averaging.
    case radiographSmoothedAveraged = "radiograph-ls-ema"

    /// The recipe applied to `base`. Every recipe but `spec` trains on a longer schedule (30 epochs, the
    /// learning rate cut tenfold every 10, patience 8): augmented images are harder to fit, and the spec's
    /// cut every 3 epochs stops an augmented model before it has (cross-validation: bench/README.md).
    public func apply(to base: TrainingConfig) -> TrainingConfig {
        var c = base
        switch self {
        case .spec:
            c.augment = false
        case .geometric:
            c.augment = true; c.augmentation = .standard
        case .radiograph, .radiographSmoothed, .radiographAveraged, .radiographSmoothedAveraged:
            c.augment = true; c.augmentation = .radiograph
        }
        if self != .spec { (c.epochs, c.lrStep, c.patience) = (30, 10, 8) }
        if self == .radiographSmoothed || self == .radiographSmoothedAveraged { c.labelSmoothing = 0.1 }
        if self == .radiographAveraged || self == .radiographSmoothedAveraged { c.emaDecay = 0.998 }
        return c
    }
}

extension TrainingRecipe {
    /// What `pneumo train`, `pneumo cv` and the pipeline use unless told otherwise: the recipe 5-fold
    /// cross-validation on train + val preferred (the table and commands are in bench/README.md).
    public static let `default` = TrainingRecipe.radiographAveraged
}
