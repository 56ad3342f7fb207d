import ArgumentParser
import Train

extension TrainingRecipe: ExpressibleByArgument {}

/// The training recipe and its adjustments, shared by `train` and `cv`: a named recipe, then any flag given.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training recipe: \(TrainingRecipe.allCases.map(\.rawValue).joined(separator: ", ")) (default: \(TrainingRecipe.default.rawValue), the one cross-validation preferred; spec is the spec's TRAINING_CONFIG).", valueName: "name"))
    var recipe: TrainingRecipe = .default
    // The numbers parse `.unconditional`ly: `--epochs -1` is then "--epochs must be positive, got -1" from
    // validate(), not "Missing value for '--epochs'" (a leading dash otherwise reads as the next flag).
    @Option(parsing: .unconditional, help: "Epochs (default: the recipe's).") var epochs: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Batch size (default: the recipe's).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Adam learning rate (default: the recipe's).") var lr: Float?
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Adam weight decay (L2) (default: the recipe's).") var weightDecay: Float?
    @Option(name: .customLong("lr-step"), parsing: .unconditional, help: "Epochs between learning-rate drops (×0.1) (default: the recipe's).") var lrStep: Int?
    @Option(parsing: .unconditional, help: "Epochs without a better val AUC (or, where val has one class, a lower val loss) before stopping (default: the recipe's).") var patience: Int?
    @Option(help: "Random seed (initialisation, data order, dropout, augmentation).") var seed: UInt64 = 42
    @Flag(inversion: .prefixedNo, help: "Augment training images (default: as the recipe does).") var augment: Bool?
    @Flag(name: .customLong("class-weights"), help: "Weight the loss by inverse class frequency.") var classWeights = false
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε in [0, 1) (default: the recipe's).") var labelSmoothing: Float?
    @Option(help: "Keep the exponential moving average of the weights with this decay in (0, 1); 0 turns it off (default: the recipe's).")
    var ema: Float?

    func validate() throws {
        for (flag, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--lr-step", lrStep), ("--patience", patience)] {
            if let value, value < 1 { throw ValidationError("\(flag) must be a positive whole number, got \(value)") }
        }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive, got \(lr)") }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be non-negative, got \(weightDecay)") }
        if let labelSmoothing, !(labelSmoothing >= 0 && labelSmoothing < 1) {
            throw ValidationError("--label-smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        if let ema, !(ema >= 0 && ema < 1) { throw ValidationError("--ema must be in [0, 1) (0: off), got \(ema)") }
    }

    /// The recipe's configuration with the flags given applied on top.
    var config: TrainingConfig {
        var c = recipe.apply(to: TrainingConfig())
        if let epochs { c.epochs = epochs }
        if let batchSize { c.batchSize = batchSize }
        if let lr { c.learningRate = lr }
        if let weightDecay { c.weightDecay = weightDecay }
        if let lrStep { c.lrStep = lrStep }
        if let patience { c.patience = patience }
        c.seed = seed
        if let augment { c.augment = augment }
        if classWeights { c.classWeights = true }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let ema { c.emaDecay = ema > 0 ? ema : nil }
        return c
    }
}
