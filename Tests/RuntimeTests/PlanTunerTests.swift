import Foundation
import Testing
import TestSupport
@testable import CPUBackend
@testable import GraphCore
import Optimize
@testable import Runtime

/// Tuning is separate from compiling: what `PlanTuner` decided for an `.auto` plan compiles again, without timing
/// anything, into the same steps on the same implementations.
@Suite struct PlanTunerTests {
    @Test func compilingTheTunersArrangementGivesTheSameSteps() throws {
        let (m, shape, _) = try kernelTestModel("mobilenetv2")
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1] + shape, parallelism: .auto, convolutions: .auto)
        let (g, p) = try InferenceRewrites.prepareForInference(m.graph, m.parameters)
        let ctx = try #require(DNNLContext.shared)
        let compilation = PlanParts(graph: g, parameters: p, lowered: PlanLowering.lower(g, fuse: true), inputName: "image", inputShape: [1] + shape,
                                    layout: .channelsLast, precision: .fp32, calibration: nil, int8Weights: .full, ctx: ctx)
        let again = try #require(try compilation.compile(plan.arrangement))
        #expect(again.count == 1)
        #expect(again[0].steps.map(\.implementation) == plan.implementations.map(\.implementation), "\(plan.parallelismReason)")
    }

    /// A race's blocks start with an untimed call, except where calls are long: then every block's call is timed, and
    /// the rounds take half the calls (the spec's baseline at batch 256 takes seconds a call).
    @Test func longCallsAreAllTimed() throws {
        func calls(sleepingMs ms: UInt32) throws -> (whole: Int, runs: Int) {
            var (whole, other) = (0, 0)
            let t = try PlanTuner.race(whole: { whole += 1; usleep(ms * 1000) }, other: { other += 1; usleep(ms * 1000) })
            #expect(whole == other)
            return (whole, t.runs)
        }
        let long = try calls(sleepingMs: UInt32(PlanTuner.longCallsMs * 0.6))
        // Two calls of each side (one untimed) size the race; then 3 rounds of one timed call (8 calls before).
        #expect(long.whole == 2 + long.runs && long.runs == 3, "\(long)")
        let short = try calls(sleepingMs: 1)
        #expect(short.whole > 2 + short.runs, "\(short)")
    }
}
