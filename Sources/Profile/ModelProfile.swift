import CPUBackend
import GraphCore
import Foundation
import Runtime

/// Everything `pneumo profile` reports for one model: compute, memory at batch 1 and batch B, time,
/// time by operation type, and the batch-size sweep with the deployment recommendations.
public struct ModelProfile: Codable, Sendable {
    public struct PeakMemory: Codable, Sendable {
        public var planned: Int
        public var measured: Int
    }

    public var model: String
    public var input_shape: [Int]
    public var threads: Int
    public var device: String
    public var macs_per_sample: Int
    /// 2 × MACs.
    public var flops_per_sample: Int
    /// The spec's GFLOPs: MACs / 10⁹ (`ComputeConvention`), as in `sla_*.json`.
    public var gflops_per_sample: Double
    public var parameters: Int
    public var model_size_mb: Double
    public var resize_elements_per_sample: Int
    public var elementwise_ops_per_sample: Int
    /// At batch 1.
    public var peak_memory_bytes: PeakMemory
    public var memory: [MemoryProfile]
    /// Batch-1 latency.
    public var latency_ms: LatencyStats
    public var latency_samples_ms: [Double]
    public var batch_latency: TimingProfile
    /// Samples per second at batch B.
    public var throughput_samples_per_s: Double
    /// Per-sample latency at batch B.
    public var amortized_latency_ms: Double
    public var operation_breakdown: [String: Double]
    public var operation_ms: [String: Double]
    /// Σ per-step times / end-to-end time at batch 1 (the breakdown accounts for this much of the time).
    public var breakdown_coverage: Double
    /// Each plan step's mean time at batch 1, in plan order.
    public var step_ms: [StepTime]
    /// The same at `batch_latency`'s batch size (an intra-op plan, so that steps run one after another); nil at batch 1.
    /// Where batch 1 is bound by per-call overhead, this says where a batch's time goes.
    public var batch_step_ms: [StepTime]?
    /// The batch-1 plan that was timed, in words ("single-thread, 10/20 convolutions winograd"): by default the plan a
    /// deployed `Runtime` compiles (kernels and parallelism chosen by timed races), so latency and throughput are the
    /// deployed model's.
    public var plan: String
    /// The plan whose steps `step_ms` times: intra-op (steps run one after another) with the same convolution choice.
    /// Nil in files written before it.
    public var step_plan: String?
    /// How the timed plans were asked to compute convolutions and use the threads (`auto`: as deployed).
    public var convolutions: String?
    public var parallelism: String?
    /// The arithmetic the timed plans ran ("fp32", "fp16", "bf16", "int8"): by default the model's own. Nil in files
    /// written before it (fp32, or int8 for a quantized model).
    public var precision: String? = nil
    /// Where an INT8 plan of a float model took its activation ranges ("2048 train images of FILE", or random inputs:
    /// true timings, meaningless accuracy); nil for other plans.
    public var calibration: String? = nil
    /// Whether `calibration` was random inputs; nil without a calibration, and in files written before it.
    public var calibration_random: Bool? = nil
    public var layers: [ComputeProfile.Layer]
    public var sweep: [SweepPoint]
    /// The batch with the lowest latency per sample among those whose whole-batch latency stays within
    /// `realtime_budget_ms` (the spec's hint: real-time answers at the least cost per image).
    public var best_batch_realtime: Int?
    public var realtime_budget_ms: Double
    /// Batch with the most samples per second.
    public var best_batch_throughput: Int?
    /// Timed runs and untimed warm-ups at batch 1 and at `batch_latency`'s batch.
    public var runs: Int?
    public var warmup: Int?
    /// What the timed runs were fed: real images ("the first 32 val images of FILE") or "random normal inputs".
    public var timing_input: String?
    /// Where this profile differs from the spec's (100 timed runs after 10 warm-ups on a real val batch), and why.
    public var spec_differences: [String]?

    /// The spec's profiling: `profile_inference_time(num_runs=100, warmup_runs=10)` on a sample batch of val.
    public static let specRuns = 100, specWarmup = 10

    public struct Options: Sendable {
        public var batch = 32
        public var runs = ModelProfile.specRuns
        public var warmup = ModelProfile.specWarmup
        /// Images to time on; nil: random normal inputs (said in `spec_differences`).
        public var sample: ProfileSample?
        public var sweep = [1, 8, 32, 64, 128, 256]
        public var layout = PlanLayout.channelsLast
        /// How fp32 3×3 convolutions are lowered (`.auto`: as a deployed `Runtime`; `.direct`: oneDNN's direct
        /// convolutions, the per-step view of the unoptimized plan).
        public var convolutions = ConvolutionAlgorithm.auto
        /// How the timed plans use the threads (`.auto`: as a deployed `Runtime`). Per-step times always come from an
        /// intra-op plan, whose steps run one after another.
        public var parallelism = PlanParallelism.auto
        /// The arithmetic of the timed plans (nil: the model's own, as a deployed `Runtime`).
        public var precision: Precision?
        /// The activation ranges of an INT8 plan of a float model (nil: random inputs, for timings only).
        public var calibration: Int8Calibration?
        public var realtimeBudgetMs = 3.0
        /// Hears what is under way, a line as each batch size starts and ends (`TimingProgress`).
        public var progress: @Sendable (String) -> Void = { _ in }
        public init() {}
    }

    /// The plan settings every timed plan of one profile shares: its precision, and an INT8 plan's calibration.
    struct Arithmetic {
        let precision: Precision
        let calibration: Int8Calibration?

        init(graph: Graph, parameters: ParameterStore, inputName: String, sampleShape: [Int], options: Options) throws {
            precision = options.precision ?? Precision.native(for: graph)
            guard precision == .int8, !Int8Quantization.isQuantized(graph) else { calibration = nil; return }
            calibration = try options.calibration
                ?? Int8Calibration.random(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        }

        func plan(graph: Graph, parameters: ParameterStore, inputName: String, inputShape: [Int], options: Options,
                  parallelism: PlanParallelism) throws -> InferencePlan {
            try InferencePlan(graph: graph, parameters: parameters, inputName: inputName, inputShape: inputShape, layout: options.layout,
                              precision: precision, calibration: calibration, parallelism: parallelism, convolutions: options.convolutions)
        }
    }

    public static func measure(name: String, graph: Graph, parameters: ParameterStore, inputName: String = "image",
                               sampleShape: [Int], options: Options = Options()) throws -> ModelProfile {
        let compute = try ComputeProfile(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        let arithmetic = try Arithmetic(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape, options: options)
        let makePlan = { (batch: Int, parallelism: PlanParallelism) in
            try arithmetic.plan(graph: graph, parameters: parameters, inputName: inputName, inputShape: [batch] + sampleShape,
                                options: options, parallelism: parallelism)
        }
        var lines = TimingProgress(options.progress)
        lines.start(1, "compiling and timing (\(options.runs) runs)")
        let (plan1, memory1) = try PerformanceProfiler.memory(batch: 1) { try makePlan(1, options.parallelism) }
        let input = { (batch: Int) in try options.sample?.batch(batch, sampleShape: sampleShape) }
        let single = try PerformanceProfiler.timing(plan1, runs: options.runs, warmup: options.warmup, input: try input(1))
        lines.timed(single)
        options.progress("batch 1: timing each step")
        let steps1 = try stepPlan(plan1) { try makePlan(1, .intraOp) }
        let breakdown = try PerformanceProfiler.operationBreakdown(steps1, runs: max(options.runs / 5, 3), endToEndMs: single.latency_ms.mean,
                                                                   input: try input(1))
        var memories = [memory1]
        let batchTiming: TimingProfile
        var batchSteps: [StepTime]?
        if options.batch == 1 {
            batchTiming = single
        } else {
            lines.start(options.batch, "compiling and timing (\(options.runs) runs)")
            let (planB, memoryB) = try PerformanceProfiler.memory(batch: options.batch) { try makePlan(options.batch, options.parallelism) }
            memories.append(memoryB)
            // The spec's runs are on its sample batch: as many here as at batch 1.
            batchTiming = try PerformanceProfiler.timing(planB, runs: options.runs, warmup: options.warmup, input: try input(options.batch))
            lines.timed(batchTiming)
            options.progress("batch \(options.batch): timing each step")
            let stepsB = try stepPlan(planB) { try makePlan(options.batch, .intraOp) }
            batchSteps = try PerformanceProfiler.operationBreakdown(stepsB, runs: max(options.runs / 10, 3), endToEndMs: batchTiming.latency_ms.mean,
                                                                    input: try input(options.batch)).steps
        }
        var sweep: [SweepPoint] = []
        for b in options.sweep {
            // Fewer runs for big batches: each is long, and the mean settles quickly.
            let runs = max(3, min(options.runs, 2000 / b))
            lines.start(b, "compiling and timing (sweep, \(runs) runs)")
            let plan = try makePlan(b, options.parallelism)
            let t = try PerformanceProfiler.timing(plan, runs: runs, warmup: min(options.warmup, 3), input: try input(b))
            lines.timed(t)
            sweep.append(SweepPoint(batch: b, latency_ms: t.latency_ms.mean, per_sample_ms: t.per_sample_ms,
                                    samples_per_s: t.throughput_samples_per_s))
        }
        return ModelProfile(
            model: name, input_shape: sampleShape, threads: CPUDevice.threadCount, device: CPUInfo.description,
            macs_per_sample: compute.macs_per_sample, flops_per_sample: compute.flops_per_sample,
            gflops_per_sample: ComputeConvention.gflops(macs: compute.macs_per_sample), parameters: compute.parameters,
            model_size_mb: Double(compute.parameter_bytes) / 1_048_576, resize_elements_per_sample: compute.resize_elements_per_sample,
            elementwise_ops_per_sample: compute.elementwise_ops_per_sample,
            peak_memory_bytes: PeakMemory(planned: memory1.planned, measured: memory1.measured), memory: memories,
            latency_ms: single.latency_ms, latency_samples_ms: single.samples_ms, batch_latency: batchTiming,
            throughput_samples_per_s: batchTiming.throughput_samples_per_s, amortized_latency_ms: batchTiming.per_sample_ms,
            operation_breakdown: breakdown.percent, operation_ms: breakdown.milliseconds, breakdown_coverage: breakdown.coverage,
            step_ms: breakdown.steps, batch_step_ms: batchSteps, plan: plan1.summary, step_plan: steps1.summary,
            convolutions: options.convolutions.rawValue, parallelism: options.parallelism.rawValue,
            precision: arithmetic.precision.rawValue, calibration: arithmetic.calibration?.source,
            calibration_random: arithmetic.calibration?.isRandom,
            layers: compute.layers, sweep: sweep,
            best_batch_realtime: SweepPoint.bestRealtime(sweep, budgetMs: options.realtimeBudgetMs),
            realtime_budget_ms: options.realtimeBudgetMs,
            best_batch_throughput: sweep.max { $0.samples_per_s < $1.samples_per_s }?.batch,
            runs: options.runs, warmup: options.warmup, timing_input: options.sample?.source ?? "random normal inputs",
            spec_differences: specDifferences(options))
    }

    /// The sentences for `spec_differences`: runs and warm-ups other than the spec's, inputs that are not images.
    public static func specDifferences(_ options: Options) -> [String] {
        var out: [String] = []
        if options.runs != specRuns || options.warmup != specWarmup {
            out.append("timed \(options.runs) runs after \(options.warmup) warm-up\(options.warmup == 1 ? "" : "s"); the spec times \(specRuns) after \(specWarmup)")
        }
        if options.sample == nil {
            out.append("timed on random normal inputs, not on a batch of val images as the spec does (no data file was given)")
        }
        return out
    }
}

extension ModelProfile {
    /// An intra-op plan with `timed`'s convolution choices, whose steps can be timed one by one: `timed` itself where
    /// it is one, else `intraOp()`. (A batch-split or single-thread plan runs its steps inside one parallel region, where
    /// a step's own time cannot be read.)
    static func stepPlan(_ timed: InferencePlan, intraOp: () throws -> InferencePlan) throws -> InferencePlan {
        timed.parallelism == .intraOp ? timed : try intraOp()
    }
}

/// The CPU, as a person would name it (`/proc/cpuinfo`'s model name and vector extensions).
public enum CPUInfo {
    public static var description: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "CPU" }
        let name = text.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "CPU"
        let flags = text.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let isa = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "SSE"
        return "\(name) (\(isa), \(ProcessInfo.processInfo.activeProcessorCount) cores)"
    }
}
