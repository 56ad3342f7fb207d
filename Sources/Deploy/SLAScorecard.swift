import Data
import CPUBackend
import GraphCore
import Foundation
import ClinicalMetrics
import Profile
import Runtime

/// The spec's performance standard for a deployed model, each check with its target, measured value,
/// margin and verdict: < 0.4 GFLOPs per sample, < 100 MB peak memory, < 3 ms single-image latency,
/// > 2000 samples/s, > 98% sensitivity.
///
/// Conventions, stated because they decide verdicts: "GFLOPs" is the spec's (thop's) figure, which counts
/// one multiply-accumulate as one operation, so it is the convolution + linear MACs (`ComputeConvention`; the same
/// `gflops_per_sample` as `profile_*.json`); `macs_per_sample` and `flops_per_sample` (2 per MAC) give both counts
/// by name, and `true_gflops_per_sample` (flops_per_sample / 10⁹) stays for older readers. Peak memory is the
/// runtime's measured allocator peak at batch 1 (weights + activations + workspace + output), not the process RSS
/// (reported too). Latency is the mean
/// of batch-1 runs. Throughput is the best samples/s over the batch sweep. Speed and memory are those of the
/// plans a deployed `Runtime` compiles (`.auto` parallelism and convolutions unless asked otherwise); `plans`
/// names what each batch size got. Sensitivity is measured on the requested split at the threshold chosen on
/// the val split by `threshold_rule`, on the model's calibrated probabilities (its stored temperature), with
/// a 95% Wilson interval: a PASS whose interval reaches below the target is marked `interval_crosses_target`,
/// since the split's positives cannot show it holds.
public struct SLAScorecard: Codable, Sendable {
    public struct Check: Codable, Sendable {
        public var name: String
        public var target: Double
        public var measured: Double
        public var unit: String
        /// How far inside the target (positive) or outside (negative), as a fraction of the target.
        public var margin: Double
        public var pass: Bool
        /// The measured value's 95% interval, where it is a proportion measured on images (sensitivity).
        public var ci95: ConfidenceInterval?
        /// True when the interval has values on both sides of the target: the verdict is not certain.
        public var interval_crosses_target: Bool?

        /// "PASS", "FAIL", or either with "(95% interval crosses the target)".
        public var verdict: String {
            (pass ? "PASS" : "FAIL") + (interval_crosses_target == true ? " (95% interval crosses the target)" : "")
        }
    }

    public struct Targets: Sendable {
        public var gflops = 0.4, memoryMB = 100.0, latencyMs = 3.0, throughput = 2000.0, sensitivity = 0.98
        public init() {}
    }

    public var model: String
    public var split: String
    public var device: String
    public var threads: Int
    /// The spec's GFLOPs: MACs / 10⁹.
    public var gflops_per_sample: Double
    /// 2 × MACs / 10⁹.
    public var true_gflops_per_sample: Double
    /// Absent in scorecards from before they were added.
    public var macs_per_sample: Int?
    /// 2 × MACs.
    public var flops_per_sample: Int?
    public var peak_memory_mb: Double
    public var process_peak_rss_mb: Double
    public var latency_ms: Double
    public var latency_p95_ms: Double
    public var amortized_latency_ms: Double
    public var amortized_batch: Int
    public var throughput_samples_per_s: Double
    public var sensitivity: Double
    public var sensitivity_ci95: ConfidenceInterval?
    public var specificity: Double
    public var specificity_ci95: ConfidenceInterval?
    public var auc: Double
    public var auc_ci95: ConfidenceInterval?
    public var threshold: Double
    public var target_sensitivity: Double
    /// `ThresholdRule`'s raw value; absent in scorecards from before rules existed.
    public var threshold_rule: String?
    /// The temperature applied to the model's probabilities (1: none stored).
    public var temperature: Double?
    public var checks: [Check]
    public var pass: Bool
    /// How the timed plans ran, by batch size ("1": "intra-op, 3/20 convolutions winograd"), and why (what `auto`
    /// measured when compiling them).
    public var plans: [String: String]?
    public var plan_reasons: [String: String]?
    /// Where this scorecard differs from the spec's defaults, and why (the threshold rule; the split, where the
    /// file has no test split).
    public var spec_differences: [String]?

    static func check(_ name: String, _ measured: Double, below target: Double, _ unit: String) -> Check {
        Check(name: name, target: target, measured: measured, unit: unit, margin: (target - measured) / target, pass: measured < target)
    }

    static func check(_ name: String, _ measured: Double, above target: Double, _ unit: String) -> Check {
        Check(name: name, target: target, measured: measured, unit: unit, margin: (measured - target) / target, pass: measured > target)
    }

    /// Scores `runtime` on `dataset`: accuracy on `split` at the threshold chosen on val for
    /// `targetSensitivity`, speed and memory on the same runtime. `progress` hears what is under way, a line per
    /// batch size (`TimingProgress`).
    public static func measure(model: String, graph: Graph, parameters: ParameterStore, inputName: String = "image",
                               sampleShape: [Int], dataset: some SplitSource,
                               split: Split, preprocessing: Preprocessing, targetSensitivity: Double = 0.98,
                               rule: ThresholdRule = .valSensitivity, temperature: TemperatureScaling = .identity,
                               targets: Targets = Targets(), runs: Int = 200, sweep: [Int] = [64, 128, 256],
                               parallelism: PlanParallelism = .auto, convolutions: ConvolutionAlgorithm = .auto,
                               progress: @escaping (String) -> Void = { _ in }) throws -> SLAScorecard {
        // A val split too small for the rule is refused before minutes of timing, not after.
        let valPositives = try dataset.split(.val).labels.count(where: { $0 == 1 })
        if let why = rule.shortfall(forSensitivity: targetSensitivity, positives: valPositives, split: "val") {
            throw EngineError.invalid("sla", "\(dataset.file): " + why)
        }
        let compute = try ComputeProfile(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        var lines = TimingProgress(progress)
        lines.start(1, "compiling and timing (\(runs) runs)")
        let (plan1, memory) = try PerformanceProfiler.memory(graph: graph, parameters: parameters, inputName: inputName,
                                                              sampleShape: sampleShape, batch: 1, layout: .channelsLast,
                                                              parallelism: parallelism, convolutions: convolutions)
        let latency = try PerformanceProfiler.timing(plan1, runs: runs, warmup: 20)
        lines.timed(latency)
        let runtime = Runtime(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape,
                              parallelism: parallelism, convolutions: convolutions)
        var (plans, reasons) = (["1": plan1.summary], ["1": plan1.parallelismReason])
        var best: (batch: Int, timing: TimingProfile)?
        for b in sweep {
            lines.start(b, "compiling and timing (throughput)")
            let plan = try runtime.plan(batch: b)
            (plans[String(b)], reasons[String(b)]) = (plan.summary, plan.parallelismReason)
            let t = try PerformanceProfiler.timing(plan, runs: max(5, 2000 / b), warmup: 3)
            lines.timed(t)
            if best == nil || t.throughput_samples_per_s > best!.timing.throughput_samples_per_s { best = (b, t) }
        }
        progress("choosing the threshold on val")
        // Scored at the best batch size, whose plan is compiled (a plan for another size would be raced again).
        let val = try Scoring.scores(runtime, try dataset.split(.val), preprocessing: preprocessing, batch: best!.batch, temperature: temperature)
        guard let threshold = rule.threshold(forSensitivity: targetSensitivity, scores: val.scores, labels: val.labels) else {
            throw EngineError.invalid("sla", "\(dataset.file): no threshold meets rule \(rule.rawValue) for sensitivity \(targetSensitivity)")
        }
        let reported = split == .val ? val
            : try Scoring.scores(runtime, try dataset.split(split), preprocessing: preprocessing, batch: best!.batch, temperature: temperature)
        let m = ThresholdMetrics(scores: reported.scores, labels: reported.labels, threshold: threshold)
        var sensitivityCheck = check("sensitivity", m.sensitivity, above: targets.sensitivity, "")
        sensitivityCheck.ci95 = m.ci95?.sensitivity
        sensitivityCheck.interval_crosses_target = m.ci95?.sensitivity.map { $0.lower <= targets.sensitivity && $0.upper > targets.sensitivity }
        let gflops = ComputeConvention.gflops(macs: compute.macs_per_sample)
        let memoryMB = Double(memory.measured) / 1_048_576
        let checks = [
            check("GFLOPs per sample", gflops, below: targets.gflops, "GFLOPs"),
            check("peak memory", memoryMB, below: targets.memoryMB, "MB"),
            check("single-image latency", latency.latency_ms.mean, below: targets.latencyMs, "ms"),
            check("throughput", best!.timing.throughput_samples_per_s, above: targets.throughput, "samples/s"),
            sensitivityCheck,
        ]
        return SLAScorecard(model: model, split: split.rawValue, device: CPUInfo.description, threads: CPUDevice.threadCount,
                            gflops_per_sample: gflops, true_gflops_per_sample: Double(compute.flops_per_sample) / 1e9,
                            macs_per_sample: compute.macs_per_sample, flops_per_sample: compute.flops_per_sample, peak_memory_mb: memoryMB,
                            process_peak_rss_mb: Double(memory.process_peak_rss_bytes) / 1_048_576,
                            latency_ms: latency.latency_ms.mean, latency_p95_ms: latency.latency_ms.p95,
                            amortized_latency_ms: best!.timing.per_sample_ms, amortized_batch: best!.batch,
                            throughput_samples_per_s: best!.timing.throughput_samples_per_s, sensitivity: m.sensitivity,
                            sensitivity_ci95: m.ci95?.sensitivity, specificity: m.specificity, specificity_ci95: m.ci95?.specificity,
                            auc: BinaryMetrics.auc(scores: reported.scores, labels: reported.labels) ?? 0,
                            auc_ci95: DeLong.components(scores: reported.scores, labels: reported.labels)?.interval(),
                            threshold: threshold, target_sensitivity: targetSensitivity, threshold_rule: rule.rawValue,
                            temperature: temperature.temperature, checks: checks, pass: checks.allSatisfy(\.pass),
                            plans: plans, plan_reasons: reasons, spec_differences: rule.specDifference.map { [$0] })
    }

    public func table() -> String {
        var lines = ["SLA scorecard: \(model) on \(split), \(threads) threads on \(device)",
                     "check                    target        measured                    margin   verdict"]
        func interval(_ ci: ConfidenceInterval?) -> String {
            ci.map { String(format: " [%.2f, %.2f]", $0.lower * 100, $0.upper * 100) } ?? ""
        }
        for c in checks {
            let fmt: (Double) -> String = c.unit.isEmpty ? { String(format: "%.2f%%", $0 * 100) } : { String(format: "%.3f %@", $0, c.unit) }
            let cmp = c.name == "throughput" || c.name == "sensitivity" ? "> " : "< "
            lines.append(c.name.padded(to: 24) + (cmp + fmt(c.target)).padded(to: 14) + (fmt(c.measured) + interval(c.ci95)).padded(to: 28)
                         + String(format: "%+.0f%%", c.margin * 100).padded(to: 9) + c.verdict)
        }
        let rule = threshold_rule.flatMap(ThresholdRule.init(rawValue:)) ?? .valSensitivity
        lines.append(String(format: "threshold %.4f (%@, %.3f); specificity %.2f%%%@, AUC %.4f%@; temperature %.3f",
                            threshold, rule.explanation, target_sensitivity, specificity * 100, interval(specificity_ci95), auc,
                            auc_ci95.map { String(format: " [%.4f, %.4f]", $0.lower, $0.upper) } ?? "", temperature ?? 1))
        lines.append(String(format: "GFLOPs per sample (%@): %.4f, i.e. %.4f G MACs; %.4f G FLOPs at 2 per MAC", ComputeConvention.label,
                            gflops_per_sample, gflops_per_sample, true_gflops_per_sample))
        lines.append(String(format: "amortized %.4f ms/sample at batch %d; p95 latency %.3f ms; process peak RSS %.0f MB; [a, b]: 95%% intervals",
                            amortized_latency_ms, amortized_batch, latency_p95_ms, process_peak_rss_mb))
        if let plans {
            lines.append("plans: " + plans.sorted { Int($0.key) ?? 0 < Int($1.key) ?? 0 }.map { "batch \($0.key) \($0.value)" }.joined(separator: "; "))
        }
        for note in spec_differences ?? [] { lines.append("note: " + note) }
        lines.append(pass ? "PASS: every check" : "FAIL: \(checks.filter { !$0.pass }.map(\.name).joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}

/// P(pneumonia) for every image of a split, through the compiled runtime.
public enum Scoring {
    /// In batches of `batch` images (default: the split, up to 256), the last one padded with zeros to `batch`, so
    /// that one plan scores the whole split: a smaller last batch compiled, and raced, a plan of its own
    /// (`bench/README.md`, "A quick pipeline's time").
    public static func scores(_ runtime: Runtime, _ split: ImageSplit, preprocessing: Preprocessing, batch: Int? = nil,
                              temperature: TemperatureScaling = .identity) throws -> (scores: [Double], labels: [Int]) {
        let batch = max(1, batch ?? min(256, split.count))
        let loader = try DataLoader(split, batchSize: batch, sampling: .sequential, preprocessing: preprocessing)
        var scores: [Double] = []
        for b in loader.epoch(0) {
            let n = b.images.shape[0]
            scores += try runtime.run(n == batch ? b.images : b.images.paddedWithZeros(toBatch: batch)).positiveClassProbabilities().prefix(n)
        }
        return (temperature.apply(scores), split.labels)
    }
}

extension Tensor {
    /// This batch `[n, …]` followed by zero images up to `[batch, …]`.
    func paddedWithZeros(toBatch batch: Int) -> Tensor {
        let x = contiguous()
        var padded = Tensor(zeros: [batch] + Array(x.shape.dropFirst()))
        padded.withUnsafeMutableBufferPointer { dst in
            x.withUnsafeBufferPointer { src in dst.baseAddress!.update(from: src.baseAddress!, count: src.count) }
        }
        return padded
    }
}
