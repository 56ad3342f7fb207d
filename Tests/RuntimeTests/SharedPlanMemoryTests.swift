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
        let everyPlan = try [1, 3, 8].reduce(0) { $0 + PlanContext.memoryBytes(try runtime.plan(batch: $1).parts) }
        #expect(runtime.idlePlanMemoryBytes < everyPlan)
        #expect(try runtime.plan(batch: 1).contextsMade == 2, "batch 1: once in the first buffer, once in the grown one")
        #expect(largest.contextsMade == 1)
    }
}

/// A runtime's plans share the weights they lay out alike, whatever their batch sizes (oneDNN may choose another
/// layout for a step at another batch size: that step's weights are laid out again).
@Suite struct SharedWeightsTests {
    @Test(arguments: [ConvolutionAlgorithm.direct, .winograd, .separable])
    func plansOfEveryBatchSizeShareTheirWeights(_ convolutions: ConvolutionAlgorithm) throws {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: .intraOp, convolutions: convolutions)
        let (one, eight) = (try runtime.plan(batch: 1), try runtime.plan(batch: 8))
        let own = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [8] + shape, convolutions: convolutions)
        func buffers(_ p: InferencePlan) -> [ObjectIdentifier: Int] {
            Dictionary(p.parts.flatMap(\.weights).map { (ObjectIdentifier($0), $0.byteCount) }, uniquingKeysWith: { a, _ in a })
        }
        let shared = buffers(one).filter { buffers(eight)[$0.key] != nil }.values.reduce(0, +)
        #expect(shared * 2 > one.weightBytes, "\(shared) of \(one.weightBytes) bytes shared")
        #expect(buffers(own).keys.allSatisfy { buffers(eight)[$0] == nil }, "a plan compiled alone has weights of its own")
        #expect(eight.weightBytes == own.weightBytes)
    }
}

extension SharedPlanMemoryTests {
    /// Plans compiled before the first call (as a server compiles its batch sizes) share a buffer of the largest plan's
    /// size from the first call on: it is not outgrown and made again.
    @Test func aBufferTakesTheLargestCompiledPlanAtOnce() throws {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: .intraOp, convolutions: .direct)
        let plans = try [1, 3, 8].map { try runtime.plan(batch: $0) }
        var rng = SeededRandom(seed: 6)
        for b in [1, 3, 8, 1] { _ = try runtime.run(Tensor.randomNormal([b] + shape, using: &rng)) }
        #expect(runtime.idlePlanMemoryBytes == PlanContext.memoryBytes(plans[2].parts))
        #expect(plans.map(\.contextsMade) == [1, 1, 1])
    }
}

extension SharedWeightsTests {
    /// The cache holds what it made until the compile ends, then only what a plan still holds.
    @Test func theCacheKeepsOnlyWhatAPlanStillHolds() throws {
        let cache = WeightCache()
        var made = 0
        func lookUp(_ name: String) throws -> AlignedBuffer {
            try cache.buffer(name, nil) { made += 1; return AlignedBuffer(byteCount: 256) }
        }
        let held = try lookUp("conv1.weight")
        _ = try lookUp("conv2.weight")
        #expect(try lookUp("conv2.weight") === lookUp("conv2.weight"), "within a compile, a buffer no plan holds is found again")
        cache.compileEnded()
        #expect(try lookUp("conv1.weight") === held)
        _ = try lookUp("conv2.weight")
        #expect(made == 3, "conv2's buffer, held by no plan, was let go and made again")
    }
}
