import ArgumentParser

/// `--distill-temperature` and `--distill-alpha`, shared by the commands that distil (`train --teachers`,
/// `cv --distill-ensemble`); checked here so that a bad value fails before any training.
struct DistillationOptions: ParsableArguments {
    @Option(name: .customLong("distill-temperature"), help: "Distillation temperature T > 0.") var temperature: Float = 4
    @Option(name: .customLong("distill-alpha"), help: "Weight of the teachers' term, in [0, 1].") var alpha: Float = 0.7

    func validate() throws {
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--distill-temperature must be positive, got \(temperature)") }
        guard (0...1).contains(alpha) else { throw ValidationError("--distill-alpha must be in [0, 1], got \(alpha)") }
    }
}
