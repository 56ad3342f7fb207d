import CDNNL
import CPUBackend
import GraphCore

/// One compiled part of a plan, for rows `rows` of the batch: its steps (oneDNN primitives and our kernels, their
/// arguments as arena offsets and weight pointers), the weights, and the sizes of the arena and scratchpad. Immutable
/// once built, so any number of calls may run it at once, each in its own `PartContext` (`makeContext()`).
final class PlanPart: @unchecked Sendable {
    let rows: Range<Int>
    let singleThreaded: Bool
    let outputShape: [Int]
    let steps: [InferencePlan.Step]
    /// Bytes each context allocates for its arena and its scratchpad.
    let arenaBytes: Int
    let scratchBytes: Int
    let weights: [AlignedBuffer]
    let outputOffset: Int
    let userInputMD: const_dnnl_memory_desc_t
    let ctx: DNNLContext
    /// Keep the descriptors the steps' arguments point to alive.
    private let descriptors: [MemoryDesc]

    /// `singleThreaded`: primitives are created (and so tuned, with scratchpads sized) for one thread.
    init(graph: Graph, parameters: ParameterStore, lowered: [PlannedStep], inputName: String, inputShape: [Int], layout: PlanLayout,
         precision: Precision, calibration: Int8Calibration?, int8Weights: Int8WeightRange, ctx: DNNLContext, weights cache: WeightCache, rows: Range<Int>,
         singleThreaded: Bool, convolutions: ConvolutionAlgorithm = .direct, excluded: Set<String> = [],
         singleThreadedSteps: Set<Int> = []) throws {
        let team = omp_get_max_threads()
        if singleThreaded { omp_set_num_threads(1) }
        defer { omp_set_num_threads(team) }
        var builder = try PlanBuilder(graph: graph, parameters: parameters, inputName: inputName, inputShape: inputShape, layout: layout,
                                      precision: precision, calibration: calibration, int8Weights: int8Weights, ctx: ctx)
        builder.sharedWeights = cache
        builder.convolutions = convolutions
        builder.excluded = excluded
        builder.singleThreadedSteps = singleThreaded ? [] : singleThreadedSteps
        try builder.build(lowered)
        let compiled = try builder.finish()
        self.rows = rows
        self.singleThreaded = singleThreaded
        self.ctx = ctx
        (steps, arenaBytes, scratchBytes, weights, outputOffset, descriptors, outputShape, userInputMD) =
            (compiled.steps, compiled.arenaBytes, compiled.scratchBytes, compiled.weights, compiled.outputOffset, compiled.descriptors,
             compiled.outputShape, compiled.userInputMD)
    }

    /// Runs `body` seeing the thread count the primitives were compiled for: one for a single-threaded
    /// part (kernels that size their work by `omp_get_max_threads()` then stay on this thread, and inside
    /// a parallel region oneDNN runs nested primitives on the calling thread anyway).
    @inline(__always) func withItsThreadCount<R>(_ body: () throws -> R) rethrows -> R {
        guard singleThreaded else { return try body() }
        let team = omp_get_max_threads()
        omp_set_num_threads(1)
        defer { omp_set_num_threads(team) }
        return try body()
    }
}
