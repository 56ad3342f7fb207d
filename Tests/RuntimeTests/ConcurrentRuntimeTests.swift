import Testing
import TestSupport
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime

/// A `Runtime` called from many tasks at once computes, bit for bit, what the same calls compute one after another:
/// plans are shared and immutable, each call runs in an execution context of its own (arena, scratchpad, oneDNN
/// memories and stream, our kernels' workspaces), and batch-split plans give every context its own slices' arenas.
@Suite struct ConcurrentRuntimeTests {
    struct Setting: Sendable, CustomTestStringConvertible {
        let model: String
        let convolutions: ConvolutionAlgorithm
        let parallelism: PlanParallelism
        var testDescription: String { "\(model) \(convolutions) \(parallelism.rawValue)" }
    }

    /// Winograd binds oneDNN memories and streams per context; the depthwise and separable kernels write zero rows and
    /// per-slot scratch into the scratchpad; batch-split plans run their slices in an OpenMP region per call.
    static let settings = [
        Setting(model: "pneumonet", convolutions: .winograd, parallelism: .intraOp),
        Setting(model: "pneumonet", convolutions: .winograd, parallelism: .batchSplit),
        Setting(model: "mobilenetv2", convolutions: .separable, parallelism: .batchSplit),
        Setting(model: "mobilenetv2", convolutions: .depthwise, parallelism: .intraOp),
        Setting(model: "pneumonet", convolutions: .direct, parallelism: .singleThread),
    ]

    @Test(arguments: settings)
    func concurrentCallsOfMixedBatchSizesMatchSerialCallsBitwise(_ s: Setting) async throws {
        let (m, shape, _) = try kernelTestModel(s.model)
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: s.parallelism,
                              convolutions: s.convolutions)
        var rng = SeededRandom(seed: 31)
        let inputs = (0..<24).map { k in Tensor.randomNormal([[1, 3, 8][k % 3]] + shape, using: &rng) }
        let serial = try inputs.map { try runtime.run($0).scalars }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (k, x) in inputs.enumerated() { group.addTask { (k, try runtime.run(x).scalars) } }
            var outputs = [[Float]](repeating: [], count: inputs.count)
            for try await (k, y) in group { outputs[k] = y }
            return outputs
        }
        for k in inputs.indices {
            #expect(concurrent[k] == serial[k], "call \(k), batch \(inputs[k].shape[0])")
        }
        for b in [1, 3, 8] { #expect(try runtime.plan(batch: b).contextsMade <= inputs.count) }
    }

    /// Callers asking at once for a batch size not compiled yet get one plan, compiled once.
    @Test func aBatchSizeCompilesOnceForConcurrentCallers() async throws {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: .intraOp, convolutions: .direct)
        let plans = try await withThrowingTaskGroup(of: InferencePlan.self) { group in
            for k in 0..<8 { group.addTask { try runtime.plan(batch: [2, 5][k % 2]) } }
            var plans: [InferencePlan] = []
            for try await p in group { plans.append(p) }
            return plans
        }
        for p in plans { #expect(p === (try runtime.plan(batch: p.batch))) }
    }

    /// Calls one after another reuse the context compiled with the plan: no memory beyond the planned bytes.
    @Test func serialCallsShareOneContext() throws {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [3] + shape, parallelism: .batchSplit)
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([3] + shape, using: &rng)
        let first = try plan.run(x).scalars
        for _ in 0..<3 { #expect(try plan.run(x).scalars == first) }
        #expect(plan.contextsMade == 1)
    }
}
