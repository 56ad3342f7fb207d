import Testing
@testable import Train

/// The arithmetic behind the pipeline's remaining-time lines.
@Suite struct TrainingPaceTests {
    @Test func remainingTimeCountsStepsAndValidationUntilAnEpochIsTimed() {
        // 10 steps an epoch, 4 done, this epoch and 2 more: 6 + 20 steps of 0.5 s, and 3 validation passes of 2 s.
        let early = TrainingPace(secondsPerStep: 0.5, stepsPerEpoch: 10, stepsDone: 4, epochsLeft: 3)
        var withValidation = early
        withValidation.validationSeconds = 2
        #expect(early.remainingSeconds == 13)
        #expect(withValidation.remainingSeconds == 19)
        // Once an epoch is timed, whole epochs at that length.
        let timed = TrainingPace(secondsPerStep: 0.5, stepsPerEpoch: 10, stepsDone: 0, epochsLeft: 2, secondsPerEpoch: 7)
        #expect(timed.remainingSeconds == 14)
    }

    @Test func durationsReadAsAPersonPlans() {
        #expect(TrainingPace.duration(40.4) == "40 s")
        #expect(TrainingPace.duration(9.96) == "10 s")
        #expect(TrainingPace.duration(5.04) == "5.0 s")
        #expect(TrainingPace.duration(0.36) == "0.4 s")
        #expect(TrainingPace.duration(0) == "0.0 s")
        #expect(TrainingPace.duration(89) == "1 min")
        #expect(TrainingPace.duration(91) == "2 min")
        #expect(TrainingPace.duration(3 * 3600 + 5 * 60 + 10) == "3 h 05 min")
    }

    @Test func meterReportsOnceAfterTheTimedStepsThenEveryEpoch() {
        var meter = PaceMeter(stepsPerEpoch: 100, epochs: 5)
        let second: UInt64 = 1_000_000_000
        #expect(meter.stepped(epoch: 0, stepsDone: 1, now: 0) == nil)   // the first step only starts the clock
        #expect(meter.stepped(epoch: 0, stepsDone: 2, now: 2 * second) == nil)
        #expect(meter.stepped(epoch: 0, stepsDone: 3, now: 4 * second) == nil)
        let pace = meter.stepped(epoch: 0, stepsDone: 4, now: 6 * second)
        #expect(pace == TrainingPace(secondsPerStep: 2, stepsPerEpoch: 100, stepsDone: 4, epochsLeft: 5))
        #expect(meter.stepped(epoch: 0, stepsDone: 5, now: 8 * second) == nil)
        #expect(meter.finished(epoch: 0, seconds: 250).remainingSeconds == 1000)
    }
}
