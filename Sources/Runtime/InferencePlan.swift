import CDNNL
import CPUBackend
import GraphCore
import Foundation
import Optimize
import Synchronization


/// A compiled model for one batch size: batch-norm folded into convolutions, conv + bias + residual add
/// + ReLU fused into single oneDNN primitives, weights reordered once into each primitive's layout,
/// and every intermediate tensor placed in one arena by liveness (no allocation per call).
///
/// Immutable once compiled, and safe to run from many threads at once: each call runs in an execution context of its
/// own (arena, scratchpad, oneDNN memories and stream: `PlanContext`) taken from the plan's pool, where it goes back
/// after the call. Serial calls share one context; concurrent ones each get one (`plannedBytes` is one context's).
public final class InferencePlan: @unchecked Sendable {
    public let batch: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Bytes of the activation arena (peak of live intermediates), the weights and the scratchpad. A
    /// batch-split plan counts every slice's arena and scratchpad, and the weights it shares once. Arena and
    /// scratchpad are one execution context's: each call running at the same time as another has its own.
    public let arenaBytes: Int
    public let weightBytes: Int
    public let scratchpadBytes: Int
    public let precision: Precision
    /// An INT8 plan's weight range (nil for other precisions).
    public let int8Weights: Int8WeightRange?
    public var plannedBytes: Int { arenaBytes + weightBytes + scratchpadBytes }
    /// How calls run (an `.auto` request is resolved when compiling), and why.
    public let parallelism: PlanParallelism
    public let parallelismReason: String
    /// How fp32 3×3 stride-1 convolutions were lowered (`implementations` names each step's choice).
    public let convolutions: ConvolutionAlgorithm

    /// A oneDNN argument of a step: its slot, descriptor, and where its memory lies in every execution context.
    struct Argument {
        enum Location {
            /// An offset into the context's arena.
            case arena(Int)
            /// A weight buffer the plan owns (the same in every context).
            case weight(UnsafeMutableRawPointer)
            /// The context's scratchpad.
            case scratch
            /// The caller's input, set at each call.
            case userInput
        }
        let slot: Int32
        let md: const_dnnl_memory_desc_t
        let location: Location
    }

    struct Step {
        /// What runs the step, with `args`; nil for a step of our own (`custom`).
        let primitive: Primitive?
        var args: [Argument]
        let kind: OpKind
        let name: String
        /// Copies the residual into the output block first when the fused add cannot run in place.
        var preCopy: (from: Int, to: Int, bytes: Int)?
        /// A kernel of our own (`ArenaKernel`) on arena offsets (input, output, residual).
        var custom: (kernel: any ArenaKernel, input: Int, output: Int, residual: Int?)? = nil
        /// Created for, and run on, one thread inside a plan that runs its other steps on the team.
        var singleThreaded = false

        /// oneDNN's implementation, or our convolution's.
        var implementation: String { custom?.kernel.implementation ?? primitive?.implementation ?? "" }
    }

    /// Convolution steps, and those each kernel family counts (`counts.streaming`; a separable step is one step for two
    /// convolutions).
    public var convolutionCounts: ConvolutionCounts {
        ConvolutionCounts(implementations: implementations.filter { $0.kind == .convolution }.map(\.implementation))
    }

    /// How calls run, in words: "intra-op, 9/20 convolutions winograd, 2 streaming" (with the precision when not fp32).
    public var summary: String {
        let alone = parts.count == 1 && !parts[0].singleThreaded ? parts[0].steps.filter(\.singleThreaded).count : 0
        return "\(parallelism.rawValue)" + (alone > 0 ? " (\(alone)/\(parts[0].steps.count) steps on one thread)" : "")
            + convolutionCounts.summary
            + (precision == .fp32 ? "" : ", \(precisionSummary)")
    }

    /// The precision in words: "bf16", "int8 (7-bit weights, AVX2)".
    public var precisionSummary: String {
        int8Weights.map { "int8 (\($0.rawValue) weights, \(CPUDevice.isaName))" } ?? precision.rawValue
    }

    /// One part (intra-op, single-thread), or one per batch slice in row order (batch-split).
    let parts: [PlanPart]
    /// Where a call takes its execution context: the plan's own pool, or (a runtime's plan) the runtime's memory.
    private enum Contexts {
        case own(ContextPool)
        case shared(SharedPlanMemory)
    }
    private let contexts: Contexts
    private let sharedContextsMade = Atomic<Int>(0)

    /// Execution contexts the plan has made (one per call running at once, at most; with shared memory, again after a
    /// larger plan took the memory its contexts were in).
    var contextsMade: Int {
        switch contexts {
        case .own(let pool): pool.contextsMade
        case .shared: sharedContextsMade.load(ordering: .relaxed)
        }
    }
    /// Idle contexts a plan keeps for its next calls: as many as calls ever ran at once, up to this.
    static let pooledContexts = 16

    /// What the plan's parts were compiled for (`PlanTuner`'s decision): compiling it again gives the same steps.
    let arrangement: PlanArrangement

    /// Implementations oneDNN chose per step (`brgconv:avx512_core`; the first slice's when split), for profiles.
    public let implementations: [(name: String, kind: OpKind, implementation: String)]

    /// Compiles `graph` (input `inputName`, first output = the result) for inputs of `inputShape`.
    /// `precision` defaults to the model's own (`Precision.native(for:)`). An INT8 plan of a float model
    /// needs `calibration` (measured on the same `graph`); its weights take `int8Weights`, by default the range this
    /// CPU keeps exact (`CPUDevice.int8WeightRange`: 8-bit with AVX-512 VNNI or AMX, 7-bit elsewhere).
    public convenience init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int],
                            layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
                            calibration: Int8Calibration? = nil, int8Weights: Int8WeightRange? = nil,
                            parallelism: PlanParallelism = .intraOp, convolutions: ConvolutionAlgorithm = .direct) throws {
        try self.init(graph: graph, parameters: parameters, inputName: inputName, inputShape: inputShape, layout: layout, fuse: fuse,
                      precision: precision, calibration: calibration, int8Weights: int8Weights, parallelism: parallelism,
                      convolutions: convolutions, stepsAlone: [])
    }

    /// `stepsAlone`: with `.intraOp`, the steps (by index) created for and run on one thread (what `.auto`
    /// measures at batch 1; given here by tests). `sharedMemory`: where the calls take their arena and scratchpad, and
    /// `sharedWeights`: the weights already laid out (both a runtime's, shared by its plans); nil for the plan's own.
    init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int],
         layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
         calibration: Int8Calibration? = nil, int8Weights: Int8WeightRange? = nil, parallelism: PlanParallelism = .intraOp,
         convolutions: ConvolutionAlgorithm = .direct, stepsAlone: Set<Int>, sharedMemory: SharedPlanMemory? = nil, sharedWeights: WeightCache? = nil) throws {
        let precision = precision ?? Precision.native(for: graph)
        guard let ctx = DNNLContext.shared else { throw EngineError.backend("runtime", "no oneDNN CPU engine") }
        if let reason = Precision.unsupportedReason(precision) { throw EngineError.unsupported("runtime", reason) }
        let weightRange = int8Weights ?? CPUDevice.int8WeightRange
        if precision == .int8, let reason = CPUDevice.unsupportedReason(weightRange) { throw EngineError.unsupported("runtime", reason) }
        var (g, p) = try InferenceRewrites.prepareForInference(graph, parameters)
        // FP16: every kernel computes with the folded weights rounded to half, whichever stores them as half.
        if precision == .fp16 { (g, p) = try InferenceRewrites.roundWeights(g, p, to: .float16) }
        let lowered = PlanLowering.lower(g, fuse: fuse)
        try BatchMemoryCheck.check(g, lowered: lowered, inputName: inputName, inputShape: inputShape)
        let n = inputShape.first ?? 1
        let compilation = PlanParts(graph: g, parameters: p, lowered: lowered, inputName: inputName, inputShape: inputShape, layout: layout,
                                    precision: precision, calibration: calibration, int8Weights: weightRange, ctx: ctx,
                                    weights: sharedWeights ?? WeightCache())
        defer { compilation.weights.compileEnded() }
        // Only what `auto` times is worth keeping for the next process (and only where a cache is open).
        let cacheKey = (parallelism == .auto || convolutions == .auto) && TuningCache.active != nil
            ? try TuningCache.planKey(graph: g, inputShape: inputShape, layout: layout, precision: precision, int8Weights: weightRange, fuse: fuse,
                                      parallelism: parallelism, convolutions: convolutions, stepsAlone: stepsAlone)
            : nil
        let decision = try PlanTuner(compilation).decide(parallelism, convolutions, stepsAlone: stepsAlone, cacheKey: cacheKey)
        let (chosen, reason, convolutions) = (decision.parts, decision.reason, decision.convolutions)
        arrangement = decision.arrangement
        parts = chosen
        let compiled = chosen
        // A plan of its own gets its first context (its planned bytes) now; one in shared memory, when it first runs.
        if let sharedMemory {
            sharedMemory.reserve(compiled)
            contexts = .shared(sharedMemory)
        } else {
            contexts = .own(ContextPool(first: try PlanContext(compiled), limit: Self.pooledContexts) { try PlanContext(compiled) })
        }
        self.parallelism = chosen.count > 1 ? .batchSplit : chosen[0].singleThreaded ? .singleThread : .intraOp
        parallelismReason = reason
        self.precision = precision
        self.int8Weights = precision == .int8 ? weightRange : nil
        batch = n
        self.inputShape = inputShape
        outputShape = chosen.count > 1 ? [n] + chosen[0].outputShape.dropFirst() : chosen[0].outputShape
        arenaBytes = chosen.reduce(0) { $0 + $1.arenaBytes }
        scratchpadBytes = chosen.reduce(0) { $0 + $1.scratchBytes }
        var seen = Set<ObjectIdentifier>()
        weightBytes = chosen.flatMap(\.weights).reduce(0) { seen.insert(ObjectIdentifier($1)).inserted ? $0 + $1.byteCount : $0 }
        implementations = chosen[0].steps.map { ($0.name, $0.kind, $0.implementation) }
        self.convolutions = convolutions
    }

    /// Runs the model on `input` (`inputShape`, any layout) and returns the output (row-major).
    public func run(_ input: Tensor) throws -> Tensor {
        guard input.shape == inputShape else {
            throw EngineError.shape("runtime", "the plan was compiled for input \(describe(inputShape)), got \(describe(input.shape))")
        }
        return try withContext { try Self.run($0, input, nil) }
    }

    private func withContext<R>(_ body: (PlanContext) throws -> R) throws -> R {
        switch contexts {
        case .own(let pool): try pool.withContext(body)
        case .shared(let memory): try memory.withContext(parts, made: { sharedContextsMade.add(1, ordering: .relaxed) }, body)
        }
    }

    /// Runs once, timing each step (ns): what the profiler's operation breakdown is made of.
    public func runProfiled(_ input: Tensor) throws -> (output: Tensor, steps: [(name: String, kind: OpKind, nanoseconds: UInt64)]) {
        guard parts.count == 1 else {
            throw EngineError.unsupported("runtime", "per-step timing of a batch-split plan (its slices run at once); profile an intra-op plan")
        }
        guard input.shape == inputShape else {
            throw EngineError.shape("runtime", "the plan was compiled for input \(describe(inputShape)), got \(describe(input.shape))")
        }
        var times: [UInt64] = []
        let out = try withContext { try Self.run($0, input, &times) }
        return (out, zip(parts[0].steps, times).map { ($0.name, $0.kind, $1) })
    }

    /// An intra-op part runs on the caller's thread and its primitives fork the team; a single-thread part
    /// runs on the caller's thread alone; batch slices run in one parallel region, one per thread, each on
    /// its rows of the input and output.
    static func run(_ context: PlanContext, _ input: Tensor, _ timings: UnsafeMutablePointer<[UInt64]>?) throws -> Tensor {
        let x = input.contiguous()
        let parts = context.parts
        let out = Tensor(uninitialized: parts.count > 1 ? [parts.last!.part.rows.upperBound] + parts[0].part.outputShape.dropFirst()
                                                        : parts[0].part.outputShape)
        defer { withExtendedLifetime(x) {} }
        if parts.count == 1 {
            try withFlushedDenormals {
                try parts[0].part.withItsThreadCount { try parts[0].execute(input: x.rawPointer, output: out.rawPointer, timings: timings) }
            }
            return out
        }
        let inRow = x.count / x.shape[0] * MemoryLayout<Float>.size, outRow = out.count / out.shape[0] * MemoryLayout<Float>.size
        // Each slice's error, on the stack: no allocation per call besides the output.
        try withUnsafeTemporaryAllocation(of: (any Error)?.self, capacity: parts.count) { errors in
            errors.initialize(repeating: nil)
            defer { errors.deinitialize() }
            _ = OpenMPParallel.all(count: parts.count, minimumPerThread: 1) { range in
                // Every thread flushes denormals as the caller's does.
                withFlushedDenormals {
                    for k in range {
                        let r = parts[k].part.rows
                        do {
                            try parts[k].part.withItsThreadCount {
                                try parts[k].execute(input: x.rawPointer + r.lowerBound * inRow, output: out.rawPointer + r.lowerBound * outRow,
                                                     timings: nil)
                            }
                        } catch {
                            errors[k] = error
                            return false
                        }
                    }
                    return true
                }
            }
            if let error = errors.lazy.compactMap({ $0 }).first { throw error }
        }
        return out
    }

}
