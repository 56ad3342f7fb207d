import ClinicalMetrics
import Testing
import Train
@testable import pneumo

/// The clinical options of `train`, `cv`, `eval` and `sla`: recipes with flags on top, and bad values refused by name.
@Suite struct ClinicalOptionsTests {
    @Test func recipeThenFlags() throws {
        let plain = try TrainCommand.parse(["--out", "/tmp/x", "--recipe", "spec"])
        #expect(plain.training.config == TrainingRecipe.spec.apply(to: TrainingConfig()))
        let tuned = try TrainCommand.parse(["--out", "/tmp/x", "--recipe", "radiograph-ls-ema", "--no-augment", "--ema", "0",
                                            "--label-smoothing", "0.05", "--epochs", "30"])
        let c = tuned.training.config
        #expect(!c.augment && c.emaDecay == nil && c.labelSmoothing == 0.05 && c.epochs == 30)
        #expect(try TrainCommand.parse(["--out", "/tmp/x"]).training.recipe == TrainingRecipe.default)
    }

    @Test(arguments: [["--label-smoothing", "1"], ["--ema", "1"], ["--epochs", "0"], ["--recipe", "nope"], ["--lr", "-1"],
                      ["--teachers", "a,,b"], ["--teachers", "/no/such/file"]])
    func trainRefuses(_ args: [String]) {
        #expect(throws: (any Error).self) { _ = try TrainCommand.parse(["--out", "/tmp/x"] + args) }
    }

    @Test func crossValidationOptions() throws {
        let cv = try CVCommand.parse(["--out", "/tmp/x"])
        #expect(cv.folds == 5 && cv.thresholdRule == .wilsonLowerBound && cv.targetSensitivity == 0.98 && cv.model == "pneumonet")
        for bad in [["--folds", "2"], ["--threshold-rule", "median"], ["--distill-ensemble", "2", "--distill-alpha", "2"],
                    ["--target-sensitivity", "0"]] {
            #expect(throws: (any Error).self, "\(bad)") { _ = try CVCommand.parse(["--out", "/tmp/x"] + bad) }
        }
    }

    @Test func thresholdRuleDefaults() throws {
        #expect(try EvalCommand.parse(["--checkpoint", "/dev/null"]).thresholdRule == .wilsonLowerBound)
        let sla = try SLACommand.parse(["--model", "pneumonet"])
        #expect(sla.thresholdRule == .wilsonLowerBound && sla.targetSensitivity == 0.98)
        #expect(try SLACommand.parse(["--model", "pneumonet", "--threshold-rule", "val-sensitivity"]).thresholdRule == .valSensitivity)
    }
}
