import Foundation

/// How fast a training run goes, measured on its own steps: what its remaining-time estimate rests on.
/// Early stopping can end a run sooner, so the estimate is an upper bound.
public struct TrainingPace: Sendable, Equatable {
    /// Seconds per training step, timed after the run's first step (which carries one-time set-up).
    public var secondsPerStep: Double
    public var stepsPerEpoch: Int
    /// Steps done in the current epoch when this was measured.
    public var stepsDone: Int
    /// Epochs still to run, the current one included.
    public var epochsLeft: Int
    /// A whole epoch as timed (its validation pass included), once one has finished; nil before.
    public var secondsPerEpoch: Double?
    /// Before an epoch has finished: one validation pass, estimated from a batch of it timed (0: not measured).
    public var validationSeconds: Double = 0

    public init(secondsPerStep: Double, stepsPerEpoch: Int, stepsDone: Int, epochsLeft: Int, secondsPerEpoch: Double? = nil) {
        self.secondsPerStep = secondsPerStep; self.stepsPerEpoch = stepsPerEpoch; self.stepsDone = stepsDone
        self.epochsLeft = epochsLeft; self.secondsPerEpoch = secondsPerEpoch
    }

    /// Seconds until the run's last epoch ends: whole epochs at their measured length once one is known,
    /// else steps at the measured step time plus a validation pass an epoch.
    public var remainingSeconds: Double {
        if let secondsPerEpoch { return Double(epochsLeft) * secondsPerEpoch }
        let steps = max(stepsPerEpoch - stepsDone, 0) + max(epochsLeft - 1, 0) * stepsPerEpoch
        return Double(steps) * secondsPerStep + Double(epochsLeft) * validationSeconds
    }

    /// "1 h 05 min", "12 min", "40 s", "0.4 s": the precision a person plans with (tenths below 10 s, where whole
    /// seconds read "0 s" for a small model's epoch).
    public static func duration(_ seconds: Double) -> String {
        if seconds < 9.95 { return String(format: "%.1f s", max(seconds, 0)) }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\((s + 30) / 60) min" }
        let minutes = (s + 30) / 60
        return String(format: "%d h %02d min", minutes / 60, minutes % 60)
    }
}

/// Times a run's first steps and reports its pace once after `stepsTimed` steps past the first, then after
/// every epoch (when the whole epoch's length is known).
struct PaceMeter {
    static let stepsTimed = 3
    let stepsPerEpoch: Int
    let epochs: Int
    private var timedFrom: UInt64?
    private var stepsSinceStart = 0
    private var reported = false

    init(stepsPerEpoch: Int, epochs: Int) { self.stepsPerEpoch = stepsPerEpoch; self.epochs = epochs }

    /// After each step of `epoch` (0-based): the pace, the one time it is first known.
    mutating func stepped(epoch: Int, stepsDone: Int, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> TrainingPace? {
        stepsSinceStart += 1
        if stepsSinceStart == 1 { timedFrom = now; return nil }
        guard !reported, let timedFrom, stepsSinceStart - 1 >= min(Self.stepsTimed, stepsPerEpoch - 1) else { return nil }
        reported = true
        let perStep = Double(now - timedFrom) / 1e9 / Double(stepsSinceStart - 1)
        return TrainingPace(secondsPerStep: perStep, stepsPerEpoch: stepsPerEpoch, stepsDone: stepsDone, epochsLeft: epochs - epoch)
    }

    /// After `epoch` (0-based) has ended, `seconds` long.
    func finished(epoch: Int, seconds: Double) -> TrainingPace {
        TrainingPace(secondsPerStep: seconds / Double(max(stepsPerEpoch, 1)), stepsPerEpoch: stepsPerEpoch, stepsDone: 0,
                     epochsLeft: epochs - epoch - 1, secondsPerEpoch: seconds)
    }
}
