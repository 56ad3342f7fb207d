import Foundation
import Testing
@testable import ClinicalMetrics
import TestSupport

/// References in `Fixtures/clinical_stats.json`, written by `scripts/make_metrics_fixtures.py` (SciPy's Wilson
/// interval, DeLong's pairwise kernel in NumPy, SciPy's bounded minimiser for the temperature).
private struct Fixture: Decodable {
    struct WilsonCase: Decodable { let k: Int, n: Int, lower: Double, upper: Double }
    struct DeLongModel: Decodable { let auc: Double, variance: Double, lower: Double, upper: Double }
    struct DeLongComparison: Decodable { let difference: Double, z: Double, p_value: Double }
    struct DeLongCase: Decodable {
        let labels: [Int], scores_a: [Double], scores_b: [Double]
        let models: [DeLongModel]
        let comparison: DeLongComparison
    }
    struct Bin: Decodable { let count: Int, mean_predicted: Double?, observed_rate: Double? }
    struct CalibrationCase: Decodable {
        let labels: [Int], scores: [Double]
        let brier: Double, ece: Double, bins: [Bin]
        let temperature: Double, nll_at_temperature: Double, nll_at_one: Double
    }
    let wilson: [WilsonCase]
    let delong: DeLongCase
    let calibration: CalibrationCase

    static func load() throws -> Fixture {
        let url = fixtureURL("clinical_stats.json", in: .module)
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct WilsonIntervalTests {
    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3
    /// (printed to 4 decimals): 81/263, 15/148, 0/20, 1/29.
    @Test(arguments: [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
    func publishedExamples(k: Int, n: Int, lower: Double, upper: Double) throws {
        let ci = try #require(ConfidenceInterval.wilson(successes: k, trials: n))
        #expect(abs(ci.lower - lower) < 5e-5)
        #expect(abs(ci.upper - upper) < 5e-5)
    }

    @Test func matchesSciPy() throws {
        for c in try Fixture.load().wilson {
            let ci = try #require(ConfidenceInterval.wilson(successes: c.k, trials: c.n))
            #expect(abs(ci.lower - c.lower) < 1e-12, "\(c.k)/\(c.n)")
            #expect(abs(ci.upper - c.upper) < 1e-12, "\(c.k)/\(c.n)")
        }
    }

    @Test func undefinedWithoutTrials() {
        #expect(ConfidenceInterval.wilson(successes: 0, trials: 0) == nil)
        #expect(ConfidenceInterval.wilson(successes: 3, trials: 2) == nil)
    }

    @Test func thresholdMetricsCarryIntervals() throws {
        // 3 TP, 1 FN, 2 TN, 2 FP.
        let m = ThresholdMetrics(scores: [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2], labels: [1, 1, 0, 1, 0, 1, 0, 0], threshold: 0.5)
        let ci = try #require(m.ci95)
        #expect(ci.sensitivity == .wilson(successes: 3, trials: 4))
        #expect(ci.specificity == .wilson(successes: 2, trials: 4))
        #expect(ci.precision == .wilson(successes: 3, trials: 5))
        #expect(ci.accuracy == .wilson(successes: 5, trials: 8))
    }
}

@Suite struct DeLongTests {
    @Test func intervalMatchesPairwiseKernel() throws {
        let f = try Fixture.load().delong
        for (scores, reference) in zip([f.scores_a, f.scores_b], f.models) {
            let c = try #require(DeLong.components(scores: scores, labels: f.labels))
            #expect(abs(c.auc - reference.auc) < 1e-12)
            #expect(abs(c.auc - BinaryMetrics.auc(scores: scores, labels: f.labels)!) < 1e-12)
            #expect(abs(c.variance - reference.variance) < 1e-12)
            #expect(abs(c.interval().lower - reference.lower) < 1e-12)
            #expect(abs(c.interval().upper - reference.upper) < 1e-12)
        }
    }

    @Test func pairedTestMatchesReference() throws {
        let f = try Fixture.load().delong
        let t = try #require(DeLong.compare(scoresA: f.scores_a, scoresB: f.scores_b, labels: f.labels))
        #expect(abs(t.difference - f.comparison.difference) < 1e-12)
        #expect(abs(t.z - f.comparison.z) < 1e-9)
        #expect(abs(t.p_value - f.comparison.p_value) < 1e-9)
        #expect(t.difference_ci95.contains(t.difference))
    }

    @Test func identicalModelsDoNotDiffer() throws {
        let f = try Fixture.load().delong
        let t = try #require(DeLong.compare(scoresA: f.scores_a, scoresB: f.scores_a, labels: f.labels))
        #expect(t.difference == 0 && t.p_value == 1)
    }

    @Test func undefinedWithFewerThanTwoOfAClass() {
        #expect(DeLong.components(scores: [0.1, 0.2, 0.3], labels: [1, 1, 0]) == nil)
    }
}

@Suite struct CalibrationTests {
    @Test func brierAndECEMatchNumPy() throws {
        let f = try Fixture.load().calibration
        let c = Calibration(scores: f.scores, labels: f.labels, bins: 10)
        #expect(abs(c.brier - f.brier) < 1e-12)
        #expect(abs(c.ece - f.ece) < 1e-12)
        for (bin, reference) in zip(c.bins, f.bins) {
            #expect(bin.count == reference.count)
            #expect(bin.mean_predicted.map { abs($0 - reference.mean_predicted!) < 1e-12 } ?? (reference.mean_predicted == nil))
            #expect(bin.observed_rate.map { abs($0 - reference.observed_rate!) < 1e-12 } ?? (reference.observed_rate == nil))
        }
    }

    /// The fitted temperature reaches SciPy's minimum of the same likelihood (found by a different method:
    /// a bounded search over log T), to 1e-6 in T.
    @Test func temperatureMatchesSciPy() throws {
        let f = try Fixture.load().calibration
        let t = try TemperatureScaling.fit(scores: f.scores, labels: f.labels)
        #expect(abs(t.temperature - f.temperature) < 1e-6)
        #expect(abs(t.negativeLogLikelihood(scores: f.scores, labels: f.labels) - f.nll_at_temperature) < 1e-9)
        #expect(abs(TemperatureScaling.identity.negativeLogLikelihood(scores: f.scores, labels: f.labels) - f.nll_at_one) < 1e-9)
        // Scaling lowers the error of these over-confident scores and keeps their order.
        let scaled = t.apply(f.scores)
        #expect(Calibration(scores: scaled, labels: f.labels).ece < Calibration(scores: f.scores, labels: f.labels).ece)
        #expect(BinaryMetrics.auc(scores: scaled, labels: f.labels)! == BinaryMetrics.auc(scores: f.scores, labels: f.labels)!)
    }

    @Test func perfectSeparationIsRefused() {
        #expect(throws: CalibrationError.self) { try TemperatureScaling.fit(scores: [0.9, 0.8, 0.1, 0.2], labels: [1, 1, 0, 0]) }
        #expect(throws: CalibrationError.self) { try TemperatureScaling.fit(scores: [0.9, 0.8], labels: [1, 1]) }
        #expect(throws: CalibrationError.self) { try TemperatureScaling(temperature: 0) }
    }
}

@Suite struct ThresholdRuleTests {
    /// 100 positives scored 1.00, 0.99, …, 0.01 and 50 negatives at 0.005.
    let scores = (0..<100).map { Double(100 - $0) / 100 } + [Double](repeating: 0.005, count: 50)
    let labels = [Int](repeating: 1, count: 100) + [Int](repeating: 0, count: 50)

    @Test func valSensitivityKeepsThePointEstimate() {
        // 95 of 100 positives: the 95th score, 0.06.
        #expect(ThresholdRule.valSensitivity.threshold(forSensitivity: 0.95, scores: scores, labels: labels) == 0.06)
    }

    @Test func wilsonBoundNeedsMorePositives() throws {
        // The smallest k whose Wilson lower bound of k/100 reaches 0.90: check against the interval directly.
        let t = try #require(ThresholdRule.wilsonLowerBound.threshold(forSensitivity: 0.90, scores: scores, labels: labels))
        let k = zip(scores, labels).filter { $0.1 == 1 && $0.0 >= t }.count
        #expect(ConfidenceInterval.wilson(successes: k, trials: 100)!.lower >= 0.90)
        #expect(ConfidenceInterval.wilson(successes: k - 1, trials: 100)!.lower < 0.90)
        #expect(t < ThresholdRule.valSensitivity.threshold(forSensitivity: 0.90, scores: scores, labels: labels)!)
    }

    @Test func unreachableBoundIsNil() {
        // 100/100 has a Wilson lower bound of 0.963: 0.98 cannot be shown with 100 positives.
        #expect(ThresholdRule.wilsonLowerBound.threshold(forSensitivity: 0.98, scores: scores, labels: labels) == nil)
    }

    /// The fewest positives is where the bound of n/n first reaches the target, and the rule's threshold exists from
    /// exactly there (all positives scored alike, so only n/n can do).
    @Test(arguments: [0.5, 0.8, 0.9, 0.95, 0.98, 0.99])
    func minimumPositivesIsWhereTheBoundOfAllCaughtReachesTheTarget(target: Double) throws {
        let n = try #require(ThresholdRule.wilsonLowerBound.minimumPositives(forSensitivity: target))
        #expect(ConfidenceInterval.wilson(successes: n, trials: n)!.lower >= target)
        if n > 1 { #expect(ConfidenceInterval.wilson(successes: n - 1, trials: n - 1)!.lower < target) }
        for (count, reachable) in [(n - 1, false), (n, true)] where count > 0 {
            let t = ThresholdRule.wilsonLowerBound.threshold(forSensitivity: target, scores: [Double](repeating: 0.7, count: count) + [0.1],
                                                             labels: [Int](repeating: 1, count: count) + [0])
            #expect((t != nil) == reachable, "\(count) positives")
            #expect((ThresholdRule.wilsonLowerBound.shortfall(forSensitivity: target, positives: count, split: "val") == nil) == reachable)
        }
    }

    @Test func minimumPositivesOfTheSLA() throws {
        // n / (n + z²) ≥ 0.98 from n = 189: 188/191.84 = 0.97998, 189/192.84 = 0.98009.
        #expect(ThresholdRule.wilsonLowerBound.minimumPositives(forSensitivity: 0.98) == 189)
        #expect(ThresholdRule.valSensitivity.minimumPositives(forSensitivity: 0.98) == 1)
        #expect(ThresholdRule.wilsonLowerBound.minimumPositives(forSensitivity: 1) == nil)
        #expect(ThresholdRule.valSensitivity.minimumPositives(forSensitivity: 1) == 1)
        let why = try #require(ThresholdRule.wilsonLowerBound.shortfall(forSensitivity: 0.98, positives: 67, split: "val"))
        #expect(why.contains("at least 189") && why.contains("it has 67") && why.contains("val-sensitivity"), "\(why)")
        #expect(ThresholdRule.valSensitivity.shortfall(forSensitivity: 0.98, positives: 0, split: "val")?.contains("no pneumonia") == true)
        #expect(ThresholdRule.wilsonLowerBound.shortfall(forSensitivity: 1, positives: 10_000, split: "val") != nil)
    }

    @Test func tiesKeepEveryPositiveAtTheThreshold() throws {
        let s = [0.9, 0.5, 0.5, 0.5, 0.1], y = [1, 1, 1, 1, 0]
        let t = try #require(ThresholdRule.wilsonLowerBound.threshold(forSensitivity: 0.3, scores: s, labels: y))
        #expect(t == 0.5 || t == 0.9)
        let k = s.enumerated().filter { y[$0.offset] == 1 && $0.element >= t }.count
        #expect(ConfidenceInterval.wilson(successes: k, trials: 4)!.lower >= 0.3)
    }
}
