import CPUBackend
import Foundation
import GraphCore

/// Decides by timing, on this machine and at compile time, what a request leaves to measurement: the arrangement of
/// `PlanParallelism.auto` (intra-op against batch-split, or single-thread at batch 1, and at batch 1 a plan that runs
/// on one thread just the steps that were faster there), and, for `ConvolutionAlgorithm.auto`, which kernel families
/// earn their place in the whole call. Explicit requests time nothing. Compiling what it decided
/// (`PlanParts.compile`) is deterministic; Winograd's per-shape races (`WinogradChoice`) are decided once per process.
/// Both kinds of decision go to the active `TuningCache`, for the next process.
struct PlanTuner {
    /// The arrangement decided, its parts (compiled while deciding), why, and the convolutions the plan reports
    /// (`.direct` where `auto` left every family out).
    struct Decision {
        var arrangement: PlanArrangement
        var parts: [PlanPart]
        var reason: String
        var convolutions: ConvolutionAlgorithm
    }

    let parts: PlanParts
    /// The input races run on (made once, when a race needs it).
    private let probe: Probe

    init(_ parts: PlanParts) { (self.parts, probe) = (parts, Probe(shape: parts.inputShape)) }

    private final class Probe {
        let shape: [Int]
        lazy var input: Tensor = { var rng = SeededRandom(seed: 5); return Tensor.randomNormal(shape, using: &rng) }()
        init(shape: [Int]) { self.shape = shape }
    }

    /// Resolves `parallelism` and `convolutions` (`stepsAlone`: with `.intraOp`, the steps given one thread). With a
    /// `cacheKey` (`TuningCache.planKey`), takes the arrangement an earlier run decided for it from the active
    /// `TuningCache`, or records the one decided now, unless the machine was busy while it raced (`HostContention`).
    func decide(_ parallelism: PlanParallelism, _ convolutions: ConvolutionAlgorithm, stepsAlone: Set<Int> = [],
                cacheKey: String? = nil) throws -> Decision {
        guard let cacheKey, let cache = TuningCache.active else {
            return try decideByTiming(parallelism, convolutions, stepsAlone: stepsAlone)
        }
        if let e = cache.plan(cacheKey), let parts = try parts.compile(e.arrangement) {
            return Decision(arrangement: e.arrangement, parts: parts, reason: "\(e.reason) (\(TuningCache.takenNote))", convolutions: e.convolutions)
        }
        let start = HostContention.read()
        var d = try decideByTiming(parallelism, convolutions, stepsAlone: stepsAlone)
        if let busy = HostContention.busyNote(since: start) {
            d.reason += busy
        } else {
            cache.record(plan: cacheKey, .init(arrangement: d.arrangement, convolutions: d.convolutions, reason: d.reason))
        }
        return d
    }

    private func decideByTiming(_ parallelism: PlanParallelism, _ convolutions: ConvolutionAlgorithm, stepsAlone: Set<Int>) throws -> Decision {
        var d = try arrange(parallelism, convolutions, stepsAlone: stepsAlone)
        d.convolutions = convolutions
        // Each family of our own kernels the plan took must earn its place: the plan must beat, whole, the same plan
        // without it (a convolution's own race can mislead: a kernel faster alone, caches evicted, can make the whole
        // call slower, and the streaming kernel pays off through the whole call's memory traffic, which no single
        // convolution shows; `bench/README.md`, "Kernel decisions").
        guard convolutions == .auto && BatchMemoryCheck.roomForAnother(d.parts) else { return d }
        var (excluded, races) = (Set<String>(), "")
        for family in KernelFamily.ranked where family.weighedAt(parts.batch) {
            let taken = d.parts[0].steps.filter { $0.custom.map { KernelFamily.of($0.kernel)?.name == family.name } ?? false }.count
            guard taken > 0 else { continue }
            let without = try arrange(parallelism, .auto, excluding: excluded.union([family.name]), stepsAlone: stepsAlone)
            let t = try Self.race(d.parts, without.parts, probe.input)
            if t.other <= t.whole {
                excluded.insert(family.name)
                (d.arrangement, d.parts, d.reason) = (without.arrangement, without.parts, without.reason)
            }
            races += String(format: "; %d %@ convolutions: with %.3f ms, without %.3f ms", taken, family.name, t.whole, t.other)
        }
        d.reason += races
        // Every family that applied lost: the plan is all direct.
        if !excluded.isEmpty && !d.parts[0].steps.contains(where: { $0.custom.map { KernelFamily.of($0.kernel) != nil } ?? false }) {
            d.convolutions = .direct
        }
        return d
    }

    /// The arrangement for `parallelism` with `convolutions` (`.auto` without the `excluded` families), and why.
    private func arrange(_ parallelism: PlanParallelism, _ convolutions: ConvolutionAlgorithm, excluding excluded: Set<String> = [],
                         stepsAlone: Set<Int>) throws -> Decision {
        let n = parts.batch
        func fixed(_ threads: PlanArrangement.Threads, _ reason: String) throws -> Decision {
            let a = PlanArrangement(threads: threads, convolutions: convolutions, excluded: excluded)
            return Decision(arrangement: a, parts: try parts.compile(a)!, reason: reason, convolutions: convolutions)
        }
        switch parallelism {
        case .intraOp: return try fixed(.team(stepsAlone: stepsAlone), "requested")
        case .singleThread: return try fixed(.single, "requested")
        case _ where CPUDevice.threadCount < 2: return try fixed(.team(stepsAlone: []), "one thread: nothing to split")
        case .batchSplit where n < 2: return try fixed(.team(stepsAlone: []), "batch 1: nothing to split")
        case .batchSplit:
            let a = PlanArrangement(threads: .batchSplit, convolutions: convolutions, excluded: excluded)
            guard let split = try parts.compile(a) else {
                throw EngineError.unsupported("runtime", "batch-split: the output does not lead with the batch, so it cannot be split by rows")
            }
            return Decision(arrangement: a, parts: split, reason: "requested", convolutions: convolutions)
        case .auto:
            let whole = try fixed(.team(stepsAlone: []), "")
            guard BatchMemoryCheck.roomForAnother(whole.parts) else {
                return Decision(arrangement: whole.arrangement, parts: whole.parts,
                                reason: "auto: no room in memory to compile another arrangement beside this one and race them", convolutions: convolutions)
            }
            var other = whole
            other.arrangement.threads = n < 2 ? .single : .batchSplit
            guard let otherParts = try parts.compile(other.arrangement) else {
                return Decision(arrangement: whole.arrangement, parts: whole.parts,
                                reason: "auto: the output does not lead with the batch, so it cannot be split", convolutions: convolutions)
            }
            other.parts = otherParts
            let x = probe.input
            let (cw, co) = (try PlanContext(whole.parts), try PlanContext(other.parts))
            let t = try Self.race(cw, co, x)
            var best = t.other < t.whole ? other : whole
            best.reason = String(format: "auto: %d calls each in alternating blocks, median per call: %@ %.3f ms, intra-op %.3f ms",
                                 t.runs, n < 2 ? "single-thread" : "batch-split", t.other, t.whole)
            // At batch 1, also a plan that runs on one thread just the steps that were faster there.
            if n < 2, let alone = try Self.fasterAlone(team: cw, alone: co, x, callMs: min(t.whole, t.other)) {
                let mixed = try fixed(.team(stepsAlone: alone), best.reason)
                let m = try Self.race(t.other < t.whole ? co : cw, try PlanContext(mixed.parts), x)
                if m.other < m.whole { (best.arrangement, best.parts) = (mixed.arrangement, mixed.parts) }
                best.reason += String(format: "; %d of %d steps on one thread, the rest intra-op: %.3f ms against %.3f ms", alone.count,
                                      whole.parts[0].steps.count, m.other, m.whole)
            }
            return best
        }
    }

    private static func race(_ whole: [PlanPart], _ other: [PlanPart], _ x: Tensor) throws -> (whole: Double, other: Double, runs: Int) {
        try race(try PlanContext(whole), try PlanContext(other), x)
    }

    private static func race(_ whole: PlanContext, _ other: PlanContext, _ x: Tensor) throws -> (whole: Double, other: Double, runs: Int) {
        try race(whole: { _ = try InferencePlan.run(whole, x, nil) }, other: { _ = try InferencePlan.run(other, x, nil) })
    }

    /// The steps of `team` (an intra-op plan's context) that ran faster in `alone` (the same plan compiled for one thread):
    /// median of alternating step-timed runs, as many as fit in about 0.2 s (5 to 50); nil unless some, not all.
    private static func fasterAlone(team: PlanContext, alone: PlanContext, _ x: Tensor, callMs: Double) throws -> Set<Int>? {
        let (teamSteps, aloneSteps) = (team.parts[0].part.steps, alone.parts[0].part.steps)
        guard teamSteps.map(\.name) == aloneSteps.map(\.name) else { return nil }
        var a = [[Double]](repeating: [], count: teamSteps.count), b = a
        for _ in 0..<max(5, min(50, Int(100 / max(callMs, 1e-3)))) {
            var t: [UInt64] = []
            _ = try InferencePlan.run(team, x, &t)
            for (k, ns) in t.enumerated() { a[k].append(Double(ns)) }
            t = []
            _ = try InferencePlan.run(alone, x, &t)
            for (k, ns) in t.enumerated() { b[k].append(Double(ns)) }
        }
        let faster = Set(a.indices.filter { LatencyStats(b[$0]).median < LatencyStats(a[$0]).median })
        return faster.isEmpty || faster.count == a.count ? nil : faster
    }

    /// Median per-call milliseconds of `whole` and `other`, timed in alternating blocks of consecutive calls
    /// (so both see the same machine load), as a deployed plan runs: call after call of the same plan. The
    /// first call of each block is untimed: switching between a single-thread and an intra-op plan wakes or
    /// resizes the OpenMP team, a cost a stream of calls to one plan never pays. Where one call of each takes
    /// `longCallsMs` or more, that cost is lost in the call's own time, and the untimed call, which would double the
    /// race, is left out. One call of each sets the block length (`calls`, 1 to 50) and the rounds (`rounds`, 3 to
    /// 21) so that a race stays short at any model size.
    static func race(whole: () throws -> Void, other: () throws -> Void) throws -> (whole: Double, other: Double, runs: Int) {
        func ms(_ calls: Int, untimedFirst: Bool = true, _ body: () throws -> Void) rethrows -> Double {
            if untimedFirst { try body() }
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(calls)
        }
        let once = max(try ms(1, whole) + ms(1, other), 1e-3)
        let calls = max(1, min(50, Int(2 / once)))
        let warm = once < longCallsMs
        let rounds = max(3, min(21, Int(200 / (once * Double(calls + (warm ? 1 : 0))))))
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<rounds { a.append(try ms(calls, untimedFirst: warm, whole)); b.append(try ms(calls, untimedFirst: warm, other)) }
        return (LatencyStats(a).median, LatencyStats(b).median, rounds * calls)
    }

    /// One call of each side taking this long together (milliseconds): the race times every call (see `race`).
    static let longCallsMs = 100.0
}
