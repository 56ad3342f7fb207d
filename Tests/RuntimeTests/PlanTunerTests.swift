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
}
