import Testing
import TestSupport
@testable import GraphCore
@testable import Runtime

/// A runtime's plans (one per batch size) take their arenas and scratchpads from one shared memory: a buffer per call
/// running at once, the size of the largest plan run on it, where each plan used to keep its own.
@Suite struct SharedPlanMemoryTests {
    @Test(arguments: [PlanParallelism.intraOp, .batchSplit])
    func plansOfEveryBatchSizeShareOneBufferAndComputeWhatTheirOwnWould(_ parallelism: PlanParallelism) throws {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: parallelism, convolutions: .winograd)
        var rng = SeededRandom(seed: 5)
        // Smaller, larger, then smaller again: the buffer grows to the largest plan, and the contexts made in the
        // smaller buffer before are made again in the larger one.
        let batches = [1, 3, 8, 3, 1, 8]
        let inputs = batches.map { Tensor.randomNormal([$0] + shape, using: &rng) }
        for (x, b) in zip(inputs, batches) {
            let own = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [b] + shape, parallelism: parallelism,
                                        convolutions: .winograd)
            #expect(try runtime.run(x).scalars == own.run(x).scalars, "batch \(b)")
        }
        let largest = try runtime.plan(batch: 8)
        #expect(runtime.idlePlanMemoryBytes == PlanContext.memoryBytes(largest.parts))
        #expect(runtime.idlePlanMemoryBytes < [1, 3, 8].reduce(0) { $0 + PlanContext.memoryBytes((try? runtime.plan(batch: $1).parts) ?? []) })
        #expect(try runtime.plan(batch: 1).contextsMade == 2, "batch 1: once in the first buffer, once in the grown one")
        #expect(largest.contextsMade == 1)
    }
}
