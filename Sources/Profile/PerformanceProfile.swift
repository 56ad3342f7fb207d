import GraphCore
import Foundation
import Runtime

/// Memory of a compiled plan: what it needs by construction, and what the allocator saw.
public struct MemoryProfile: Codable, Sendable {
    public var batch: Int
    public var parameters_bytes: Int
    /// Peak of simultaneously live activations (the plan's arena, from liveness).
    public var activations_bytes: Int
    /// The largest scratchpad oneDNN asks of any step.
    public var workspace_bytes: Int
    /// The returned output tensor.
    public var output_bytes: Int
    /// parameters + activations + workspace + output.
    public var planned: Int
    /// The engine allocator's high-water mark over compiling and running the plan, above what was in use before.
    public var measured: Int
    /// Process peak resident set size (includes the runtime's code, the dataset and everything else).
    public var process_peak_rss_bytes: Int
}

/// Time of a compiled plan.
public struct TimingProfile: Codable, Sendable {
    public var batch: Int
    public var latency_ms: LatencyStats
    /// Raw timings of each run, for the histogram.
    public var samples_ms: [Double]
    public var throughput_samples_per_s: Double
    public var per_sample_ms: Double
}

/// Lines for a person while a profile or a scorecard compiles and times its plans, a batch size at a time: compiling a
/// large batch's plan (`auto` times its choices) is long for a large model (`bench/README.md`, "A quick pipeline's time").
public struct TimingProgress {
    let report: (String) -> Void
    private var started: UInt64 = 0

    public init(_ report: @escaping (String) -> Void) { self.report = report }

    /// "batch 64: compiling and timing (throughput)".
    public mutating func start(_ batch: Int, _ what: String) {
        report("batch \(batch): \(what)")
        started = DispatchTime.now().uptimeNanoseconds
    }

    /// "batch B: <ms> ms a call, <n> samples/s (compiled and timed in <s> s)".
    public func timed(_ t: TimingProfile) {
        report(String(format: "batch %d: %.3f ms a call, %.0f samples/s (compiled and timed in %.1f s)", t.batch, t.latency_ms.mean,
                      t.throughput_samples_per_s, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
    }
}

/// One batch size of the sweep.
public struct SweepPoint: Codable, Sendable {
    public var batch: Int
    public var latency_ms: Double
    public var per_sample_ms: Double
    public var samples_per_s: Double

    /// The batch of lowest per-sample latency whose whole-batch latency is within `budgetMs`; nil where none is.
    public static func bestRealtime(_ sweep: [SweepPoint], budgetMs: Double) -> Int? {
        sweep.filter { $0.latency_ms <= budgetMs }.min { ($0.per_sample_ms, $0.batch) < ($1.per_sample_ms, $1.batch) }?.batch
    }
}

public enum PerformanceProfiler {
    /// Process peak RSS in bytes (`getrusage`).
    public static var peakRSS: Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024   // kilobytes on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)           // bytes on Darwin
        #endif
    }

    /// Compiles a plan for `batch` while watching the allocator, then runs it once.
    /// The plan is intra-op with direct convolutions unless asked otherwise (a deployed `Runtime` takes `.auto`).
    public static func memory(graph: Graph, parameters: ParameterStore, inputName: String = "image", sampleShape: [Int], batch: Int,
                              layout: PlanLayout, precision: Precision? = nil, parallelism: PlanParallelism = .intraOp,
                              convolutions: ConvolutionAlgorithm = .direct) throws -> (plan: InferencePlan, memory: MemoryProfile) {
        try memory(batch: batch) {
            try InferencePlan(graph: graph, parameters: parameters, inputName: inputName, inputShape: [batch] + sampleShape,
                              layout: layout, precision: precision, parallelism: parallelism, convolutions: convolutions)
        }
    }

    /// Compiles the plan `compile` makes while watching the allocator, then runs it once on random inputs.
    public static func memory(batch: Int, compile: () throws -> InferencePlan) throws -> (plan: InferencePlan, memory: MemoryProfile) {
        // A tracker of our own: only what this plan allocates counts, not what other threads do meanwhile.
        let tracker = MemoryTracker()
        let plan = try MemoryTracker.$current.withValue(tracker) { try compile() }
        // The input after the plan, which refuses a batch or size that cannot fit (the input alone could abort the process).
        var rng = SeededRandom(seed: 0)
        let input = Tensor.randomNormal(plan.inputShape, using: &rng)
        // Compiling folds batch-norm into temporary tensors that are freed before the plan is used:
        // the window that matters is the plan's life, so restart the high-water mark once it exists.
        tracker.resetPeak()
        let output = try MemoryTracker.$current.withValue(tracker) { try plan.run(input) }
        let measured = tracker.peakBytes
        let memory = MemoryProfile(batch: batch, parameters_bytes: plan.weightBytes, activations_bytes: plan.arenaBytes,
                                   workspace_bytes: plan.scratchpadBytes, output_bytes: output.byteCount,
                                   planned: plan.plannedBytes + output.byteCount, measured: measured,
                                   process_peak_rss_bytes: peakRSS)
        return (plan, memory)
    }

    /// Times `plan` on `input` (of the plan's input shape), or on random normal numbers without one.
    public static func timing(_ plan: InferencePlan, runs: Int, warmup: Int, input: Tensor? = nil) throws -> TimingProfile {
        var rng = SeededRandom(seed: 1)
        let x = input ?? Tensor.randomNormal(plan.inputShape, using: &rng)
        let samples = try plan.time(x, runs: runs, warmup: warmup)
        let stats = LatencyStats(samples)
        return TimingProfile(batch: plan.batch, latency_ms: stats, samples_ms: samples,
                             throughput_samples_per_s: Double(plan.batch) / (stats.mean / 1000), per_sample_ms: stats.mean / Double(plan.batch))
    }

    /// Time by operation type in percent, from `runs` step-timed runs, and how the sum of step times
    /// compares with the untimed end-to-end mean (`coverage` = Σ steps / end-to-end).
    /// `steps` is each plan step's mean time, in plan order.
    public static func operationBreakdown(_ plan: InferencePlan, runs: Int, endToEndMs: Double, input: Tensor? = nil) throws
        -> (percent: [String: Double], milliseconds: [String: Double], coverage: Double, steps: [StepTime]) {
        var rng = SeededRandom(seed: 2)
        let x = input ?? Tensor.randomNormal(plan.inputShape, using: &rng)
        var totals: [OpKind: UInt64] = [:]
        var steps: [StepTime] = []
        for _ in 0..<max(runs, 1) {
            for (i, step) in try plan.runProfiled(x).steps.enumerated() {
                totals[step.kind, default: 0] += step.nanoseconds
                if i == steps.count { steps.append(StepTime(name: step.name, kind: step.kind.rawValue, ms: 0)) }
                steps[i].ms += Double(step.nanoseconds) / 1e6 / Double(max(runs, 1))
            }
        }
        let sum = Double(totals.values.reduce(0, +))
        var percent: [String: Double] = [:], ms: [String: Double] = [:]
        for kind in OpKind.allCases {
            let t = Double(totals[kind] ?? 0)
            percent[kind.rawValue] = sum > 0 ? 100 * t / sum : 0
            ms[kind.rawValue] = t / 1e6 / Double(max(runs, 1))
        }
        return (percent, ms, (sum / 1e6 / Double(max(runs, 1))) / endToEndMs, steps)
    }
}

/// One plan step's mean time: the step is named after the graph node it runs (fused nodes: the first).
public struct StepTime: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var ms: Double
}
