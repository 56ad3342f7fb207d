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
    public var flops_per_sample: Int
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
    /// The batch-1 plan, in words ("intra-op, 10/20 convolutions winograd").
    public var plan: String
    public var layers: [ComputeProfile.Layer]
    public var sweep: [SweepPoint]
    /// Largest batch whose whole-batch latency stays within `realtime_budget_ms` (answers one request fast).
    public var best_batch_realtime: Int?
    public var realtime_budget_ms: Double
    /// Batch with the most samples per second.
    public var best_batch_throughput: Int?

    public struct Options: Sendable {
        public var batch = 32
        public var runs = 50
        public var warmup = 5
        public var sweep = [1, 8, 32, 64, 128, 256]
        public var layout = PlanLayout.channelsLast
        /// How fp32 3×3 convolutions are lowered (`.auto`: as a deployed `Runtime`); plans stay intra-op so that
        /// their steps can be timed one by one.
        public var convolutions = ConvolutionAlgorithm.direct
        public var realtimeBudgetMs = 3.0
        public init() {}
    }

    public static func measure(name: String, graph: Graph, parameters: ParameterStore, inputName: String = "image",
                               sampleShape: [Int], options: Options = Options()) throws -> ModelProfile {
        let compute = try ComputeProfile(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        let (plan1, memory1) = try PerformanceProfiler.memory(graph: graph, parameters: parameters, inputName: inputName,
                                                               sampleShape: sampleShape, batch: 1, layout: options.layout,
                                                               convolutions: options.convolutions)
        let single = try PerformanceProfiler.timing(plan1, runs: options.runs, warmup: options.warmup)
        let breakdown = try PerformanceProfiler.operationBreakdown(plan1, runs: max(options.runs / 5, 3), endToEndMs: single.latency_ms.mean)
        var memories = [memory1]
        let batchTiming: TimingProfile
        var batchSteps: [StepTime]?
        if options.batch == 1 {
            batchTiming = single
        } else {
            let (planB, memoryB) = try PerformanceProfiler.memory(graph: graph, parameters: parameters, inputName: inputName,
                                                                   sampleShape: sampleShape, batch: options.batch, layout: options.layout,
                                                                   convolutions: options.convolutions)
            memories.append(memoryB)
            batchTiming = try PerformanceProfiler.timing(planB, runs: max(options.runs / 2, 5), warmup: options.warmup)
            batchSteps = try PerformanceProfiler.operationBreakdown(planB, runs: max(options.runs / 10, 3), endToEndMs: batchTiming.latency_ms.mean).steps
        }
        var sweep: [SweepPoint] = []
        for b in options.sweep {
            let plan = try InferencePlan(graph: graph, parameters: parameters, inputName: inputName, inputShape: [b] + sampleShape,
                                         layout: options.layout, convolutions: options.convolutions)
            // Fewer runs for big batches: each is long, and the mean settles quickly.
            let runs = max(3, min(options.runs, 2000 / b))
            let t = try PerformanceProfiler.timing(plan, runs: runs, warmup: min(options.warmup, 3))
            sweep.append(SweepPoint(batch: b, latency_ms: t.latency_ms.mean, per_sample_ms: t.per_sample_ms,
                                    samples_per_s: t.throughput_samples_per_s))
        }
        return ModelProfile(
            model: name, input_shape: sampleShape, threads: CPUDevice.threadCount, device: CPUInfo.description,
            macs_per_sample: compute.macs_per_sample, flops_per_sample: compute.flops_per_sample,
            gflops_per_sample: Double(compute.flops_per_sample) / 1e9, parameters: compute.parameters,
            model_size_mb: Double(compute.parameter_bytes) / 1_048_576, resize_elements_per_sample: compute.resize_elements_per_sample,
            elementwise_ops_per_sample: compute.elementwise_ops_per_sample,
            peak_memory_bytes: PeakMemory(planned: memory1.planned, measured: memory1.measured), memory: memories,
            latency_ms: single.latency_ms, latency_samples_ms: single.samples_ms, batch_latency: batchTiming,
            throughput_samples_per_s: batchTiming.throughput_samples_per_s, amortized_latency_ms: batchTiming.per_sample_ms,
            operation_breakdown: breakdown.percent, operation_ms: breakdown.milliseconds, breakdown_coverage: breakdown.coverage,
            step_ms: breakdown.steps, batch_step_ms: batchSteps, plan: plan1.summary,
            layers: compute.layers, sweep: sweep,
            best_batch_realtime: sweep.filter { $0.latency_ms <= options.realtimeBudgetMs }.map(\.batch).max(),
            realtime_budget_ms: options.realtimeBudgetMs,
            best_batch_throughput: sweep.max { $0.samples_per_s < $1.samples_per_s }?.batch)
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
