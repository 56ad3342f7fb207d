import CDNNL
import CPUBackend
import GraphCore
import Foundation
import Optimize


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
            + (precision == .fp32 ? "" : ", \(precision.rawValue)")
    }

    /// One part (intra-op, single-thread), or one per batch slice in row order (batch-split).
    private let parts: [PlanPart]
    private let contexts: ContextPool

    /// Execution contexts the plan has made (one per call running at once, at most).
    var contextsMade: Int { contexts.contextsMade }
    /// Idle contexts a plan keeps for its next calls: as many as calls ever ran at once, up to this.
    static let pooledContexts = 16

    /// Implementations oneDNN chose per step (`brgconv:avx512_core`; the first slice's when split), for profiles.
    public let implementations: [(name: String, kind: OpKind, implementation: String)]

    /// Compiles `graph` (input `inputName`, first output = the result) for inputs of `inputShape`.
    /// `precision` defaults to the model's own (`Precision.native(for:)`). An INT8 plan of a float model
    /// needs `calibration` (measured on the same `graph`).
    public convenience init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int],
                            layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
                            calibration: Int8Calibration? = nil, parallelism: PlanParallelism = .intraOp,
                            convolutions: ConvolutionAlgorithm = .direct) throws {
        try self.init(graph: graph, parameters: parameters, inputName: inputName, inputShape: inputShape, layout: layout, fuse: fuse,
                      precision: precision, calibration: calibration, parallelism: parallelism, convolutions: convolutions,
                      stepsAlone: [])
    }

    /// `stepsAlone`: with `.intraOp`, the steps (by index) created for and run on one thread (what `.auto`
    /// measures at batch 1; given here by tests).
    init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int],
         layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
         calibration: Int8Calibration? = nil, parallelism: PlanParallelism = .intraOp,
         convolutions: ConvolutionAlgorithm = .direct, stepsAlone: Set<Int>) throws {
        let precision = precision ?? Precision.native(for: graph)
        guard let ctx = DNNLContext.shared else { throw EngineError.backend("runtime", "no oneDNN CPU engine") }
        if let reason = Precision.unsupportedReason(precision) { throw EngineError.unsupported("runtime", reason) }
        let (g, p) = try InferenceRewrites.prepareForInference(graph, parameters)
        let lowered = PlanLowering.lower(g, fuse: fuse)
        try BatchMemoryCheck.check(g, lowered: lowered, inputName: inputName, inputShape: inputShape)
        let weights = WeightCache()
        let n = inputShape.first ?? 1, threads = CPUDevice.threadCount
        // The input races run on (made once, when a race needs it).
        var probe: Tensor?
        func input() -> Tensor {
            if probe == nil { var rng = SeededRandom(seed: 5); probe = Tensor.randomNormal(inputShape, using: &rng) }
            return probe!
        }

        /// The parts for `parallelism` with `convolutions` (`.auto` without the `excluded` kernel families), and why.
        func arrange(_ convolutions: ConvolutionAlgorithm, excluding excluded: Set<String> = []) throws -> (parts: [PlanPart], reason: String) {
            func part(_ rows: Range<Int>, singleThreaded: Bool, alone: Set<Int> = []) throws -> PlanPart {
                try PlanPart(graph: g, parameters: p, lowered: lowered, inputName: inputName, inputShape: [rows.count] + inputShape.dropFirst(),
                             layout: layout, precision: precision, calibration: calibration, ctx: ctx, weights: weights, rows: rows,
                             singleThreaded: singleThreaded, convolutions: convolutions, excluded: excluded, singleThreadedSteps: alone)
            }
            // Contiguous slices, sizes differing by at most one; nil where the output does not lead with the batch.
            func split() throws -> [PlanPart]? {
                let k = min(threads, n)
                let parts = try (0..<k).map { t in try part((t * n / k)..<((t + 1) * n / k), singleThreaded: true) }
                return parts.allSatisfy({ $0.outputShape.first == $0.rows.count }) ? parts : nil
            }
            switch parallelism {
            case .intraOp:
                return ([try part(0..<n, singleThreaded: false, alone: stepsAlone)], "requested")
            case .singleThread:
                return ([try part(0..<n, singleThreaded: true)], "requested")
            case _ where threads < 2:
                return ([try part(0..<n, singleThreaded: false)], "one thread: nothing to split")
            case .batchSplit where n < 2:
                return ([try part(0..<n, singleThreaded: false)], "batch 1: nothing to split")
            case .batchSplit:
                guard let parts = try split() else {
                    throw EngineError.unsupported("runtime", "batch-split: the output does not lead with the batch, so it cannot be split by rows")
                }
                return (parts, "requested")
            case .auto:
                let whole = [try part(0..<n, singleThreaded: false)]
                guard BatchMemoryCheck.roomForAnother(whole) else {
                    return (whole, "auto: no room in memory to compile another arrangement beside this one and race them")
                }
                guard let other = try n < 2 ? [part(0..<n, singleThreaded: true)] : split() else {
                    return (whole, "auto: the output does not lead with the batch, so it cannot be split")
                }
                let x = input()
                let (cw, co) = (try PlanContext(whole), try PlanContext(other))
                let t = try Self.race(whole: { _ = try Self.run(cw, x, nil) }, other: { _ = try Self.run(co, x, nil) })
                var best = t.other < t.whole ? other : whole
                var reason = String(format: "auto: %d calls each in alternating blocks, median per call: %@ %.3f ms, intra-op %.3f ms",
                                    t.runs, n < 2 ? "single-thread" : "batch-split", t.other, t.whole)
                // At batch 1, also a plan that runs on one thread just the steps that were faster there.
                if n < 2, let alone = try Self.fasterAlone(team: cw, alone: co, x, callMs: min(t.whole, t.other)) {
                    let mixed = [try part(0..<n, singleThreaded: false, alone: alone)]
                    let (cb, cm) = (t.other < t.whole ? co : cw, try PlanContext(mixed))
                    let m = try Self.race(whole: { _ = try Self.run(cb, x, nil) }, other: { _ = try Self.run(cm, x, nil) })
                    if m.other < m.whole { best = mixed }
                    reason += String(format: "; %d of %d steps on one thread, the rest intra-op: %.3f ms against %.3f ms", alone.count,
                                     whole[0].steps.count, m.other, m.whole)
                }
                return (best, reason)
            }
        }
        var (chosen, reason) = try arrange(convolutions)
        var convolutions = convolutions
        // Each family of our own kernels the plan took must earn its place: the plan must beat, whole, the same plan
        // without it (a convolution's own race can mislead: at batch 1 resnet18 at 64 px took F(2×2) for its three
        // 8×8 convolutions, each faster alone with caches evicted, and the whole call was 8% slower; the streaming
        // kernel pays off through the whole call's memory traffic, which no single convolution shows).
        if convolutions == .auto && BatchMemoryCheck.roomForAnother(chosen) {
            var (excluded, races) = (Set<String>(), "")
            for family in KernelFamily.ranked where family.weighedAt(n) {
                let taken = chosen[0].steps.filter { $0.custom.map { KernelFamily.of($0.kernel)?.name == family.name } ?? false }.count
                guard taken > 0 else { continue }
                let without = try arrange(.auto, excluding: excluded.union([family.name])), x = input()
                let (cc, cw) = (try PlanContext(chosen), try PlanContext(without.parts))
                let t = try Self.race(whole: { _ = try Self.run(cc, x, nil) }, other: { _ = try Self.run(cw, x, nil) })
                if t.other <= t.whole {
                    excluded.insert(family.name)
                    (chosen, reason) = without
                }
                races += String(format: "; %d %@ convolutions: with %.3f ms, without %.3f ms", taken, family.name, t.whole, t.other)
            }
            reason += races
            // Every family that applied lost: the plan is all direct.
            if !excluded.isEmpty && !chosen[0].steps.contains(where: { $0.custom.map { KernelFamily.of($0.kernel) != nil } ?? false }) {
                convolutions = .direct
            }
        }
        parts = chosen
        let compiled = chosen
        contexts = ContextPool(first: try PlanContext(compiled), limit: Self.pooledContexts) { try PlanContext(compiled) }
        self.parallelism = chosen.count > 1 ? .batchSplit : chosen[0].singleThreaded ? .singleThread : .intraOp
        parallelismReason = reason
        self.precision = precision
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
        return try contexts.withContext { try Self.run($0, input, nil) }
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
        let out = try contexts.withContext { try Self.run($0, input, &times) }
        return (out, zip(parts[0].steps, times).map { ($0.name, $0.kind, $1) })
    }

    /// An intra-op part runs on the caller's thread and its primitives fork the team; a single-thread part
    /// runs on the caller's thread alone; batch slices run in one parallel region, one per thread, each on
    /// its rows of the input and output.
    private static func run(_ context: PlanContext, _ input: Tensor, _ timings: UnsafeMutablePointer<[UInt64]>?) throws -> Tensor {
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

    /// The steps of `team` (an intra-op plan's context) that ran faster in `alone` (the same plan compiled for one thread):
    /// median of alternating step-timed runs, as many as fit in about 0.2 s (5 to 50); nil unless some, not all.
    private static func fasterAlone(team: PlanContext, alone: PlanContext, _ x: Tensor, callMs: Double) throws -> Set<Int>? {
        let (teamSteps, aloneSteps) = (team.parts[0].part.steps, alone.parts[0].part.steps)
        guard teamSteps.map(\.name) == aloneSteps.map(\.name) else { return nil }
        var a = [[Double]](repeating: [], count: teamSteps.count), b = a
        for _ in 0..<max(5, min(50, Int(100 / max(callMs, 1e-3)))) {
            var t: [UInt64] = []
            _ = try run(team, x, &t)
            for (k, ns) in t.enumerated() { a[k].append(Double(ns)) }
            t = []
            _ = try run(alone, x, &t)
            for (k, ns) in t.enumerated() { b[k].append(Double(ns)) }
        }
        let faster = Set(a.indices.filter { LatencyStats(b[$0]).median < LatencyStats(a[$0]).median })
        return faster.isEmpty || faster.count == a.count ? nil : faster
    }

    /// Median per-call milliseconds of `whole` and `other`, timed in alternating blocks of consecutive calls
    /// (so both see the same machine load), as a deployed plan runs: call after call of the same plan. The
    /// first call of each block is untimed: switching between a single-thread and an intra-op plan wakes or
    /// resizes the OpenMP team, a cost a stream of calls to one plan never pays. Blocks last about 1 ms (1 to
    /// 50 calls); as many rounds as fit in about 0.2 s, 3 to 21.
    private static func race(whole: () throws -> Void, other: () throws -> Void) throws -> (whole: Double, other: Double, runs: Int) {
        func ms(_ calls: Int, _ body: () throws -> Void) rethrows -> Double {
            try body()
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(calls)
        }
        let once = max(try ms(1, whole) + ms(1, other), 1e-3)
        let calls = max(1, min(50, Int(2 / once)))
        let rounds = max(3, min(21, Int(200 / (once * Double(calls + 1)))))
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<rounds { a.append(try ms(calls, whole)); b.append(try ms(calls, other)) }
        return (LatencyStats(a).median, LatencyStats(b).median, rounds * calls)
    }
}
