import Foundation
import Train

/// The pipeline's remaining-time estimate. Training is most of the job, so the estimate is its training stages:
/// the running stage at its own measured pace, the stages after it at the pace measured for their model (timed
/// up front, or on an earlier stage of the same model). Early stopping can end stages sooner, and a distilled
/// student also runs its teachers' forward passes, so each figure is said as "about".
final class JobClock: @unchecked Sendable {
    struct Stage {
        let name: String
        /// Stages of one model (teachers and their student) share a pace.
        let model: String
        let epochs: Int
        let stepsPerEpoch: Int
    }

    private let stages: [Stage]
    private var secondsPerStep: [String: Double] = [:]
    private let lock = NSLock()
    let log: @Sendable (String) -> Void

    init(stages: [Stage], log: @escaping @Sendable (String) -> Void) {
        self.stages = stages; self.log = log
    }

    /// A model's seconds per training step, measured outside its stages (a few timed steps up front).
    func measured(model: String, secondsPerStep: Double) {
        lock.withLock { self.secondsPerStep[model] = secondsPerStep }
    }

    /// Seconds of training after stage `name` ends, at the paces known; nil while a later stage's pace is unknown.
    func secondsAfter(_ name: String) -> Double? {
        lock.withLock {
            guard let index = stages.firstIndex(where: { $0.name == name }) else { return nil }
            var total = 0.0
            for stage in stages[(index + 1)...] {
                guard let pace = secondsPerStep[stage.model] else { return nil }
                total += Double(stage.epochs * stage.stepsPerEpoch) * pace
            }
            return total
        }
    }

    /// What stage `name` reports of its pace: a line with its own remaining time and the job's training.
    func paced(_ name: String, _ pace: TrainingPace) {
        guard let stage = stages.first(where: { $0.name == name }) else { return }
        if pace.secondsPerEpoch == nil { lock.withLock { secondsPerStep[stage.model] = pace.secondsPerStep } }
        let stageLeft = pace.remainingSeconds
        let measuredOn = pace.secondsPerEpoch.map { "\(TrainingPace.duration($0)) an epoch" }
            ?? String(format: "%.2f s a step, %d steps an epoch, validation %@", pace.secondsPerStep, pace.stepsPerEpoch,
                      TrainingPace.duration(pace.validationSeconds))
        var line = "\(name): \(measuredOn); about \(TrainingPace.duration(stageLeft)) left in this stage (\(pace.epochsLeft) epoch\(pace.epochsLeft == 1 ? "" : "s") at most)"
        if let after = secondsAfter(name) {
            line += after > 0 ? ", about \(TrainingPace.duration(stageLeft + after)) of training left in the job" : ", the job's last training stage"
        }
        log(line)
    }
}
