import Foundation
import Runtime

/// One batch size of `InferenceBenchmark`: our latency and throughput, the plan's memory and kernels, and ONNX
/// Runtime's on the same file when it ran. The keys are `pneumo bench infer --json`'s.
public struct InferenceBenchmarkRow: Encodable, Sendable {
    public let batch: Int
    public let latency_ms: LatencyStats
    public let samples_per_s: Double
    public let per_sample_ms: Double
    public let planned_bytes: Int
    /// How the plan ran (intra-op or batch-split) and why (requested, or what `auto` measured).
    public let parallelism: String
    public let parallelism_reason: String
    /// Convolution steps on each of our kernel families (`winograd_convolutions`, `winograd_f4x4_convolutions`,
    /// `streaming_convolutions`, …: one key per `KernelFamily` count) and of all (`convolutions`), at the row's top level.
    public let convolution_counts: ConvolutionCounts
    /// ONNX Runtime on the same file at this batch size, and our median latency / theirs and our throughput / theirs.
    public var onnxruntime: ONNXRuntimePeer.Row?
    public var latency_ratio: Double?
    public var throughput_ratio: Double?
    /// With a boundary check: the fraction of the timed images it reran in float32.
    public var boundary_rechecked: Double?

    public init(batch: Int, latency_ms: LatencyStats, samples_per_s: Double, per_sample_ms: Double, planned_bytes: Int, parallelism: String,
                parallelism_reason: String, convolution_counts: ConvolutionCounts, boundary_rechecked: Double? = nil) {
        (self.batch, self.latency_ms, self.samples_per_s, self.per_sample_ms) = (batch, latency_ms, samples_per_s, per_sample_ms)
        (self.planned_bytes, self.parallelism, self.parallelism_reason) = (planned_bytes, parallelism, parallelism_reason)
        (self.convolution_counts, self.boundary_rechecked) = (convolution_counts, boundary_rechecked)
    }

    private enum CodingKeys: String, CodingKey {
        case batch, latency_ms, samples_per_s, per_sample_ms, planned_bytes, parallelism, parallelism_reason, onnxruntime, latency_ratio,
             throughput_ratio, boundary_rechecked
    }

    /// The counts' keys go beside the others (the row's JSON keys predate `ConvolutionCounts`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encode(latency_ms, forKey: .latency_ms)
        try c.encode(samples_per_s, forKey: .samples_per_s)
        try c.encode(per_sample_ms, forKey: .per_sample_ms)
        try c.encode(planned_bytes, forKey: .planned_bytes)
        try c.encode(parallelism, forKey: .parallelism)
        try c.encode(parallelism_reason, forKey: .parallelism_reason)
        try c.encodeIfPresent(onnxruntime, forKey: .onnxruntime)
        try c.encodeIfPresent(latency_ratio, forKey: .latency_ratio)
        try c.encodeIfPresent(throughput_ratio, forKey: .throughput_ratio)
        try c.encodeIfPresent(boundary_rechecked, forKey: .boundary_rechecked)
        try convolution_counts.encode(to: encoder)
    }
}

/// What `pneumo bench infer` prints: the model, how the runtime was configured, and a row per batch size.
public struct InferenceBenchmarkResult: Encodable, Sendable {
    public let model: String
    public let input_shape: [Int]
    public let threads: Int
    public let layout: String
    public let precision: String
    /// The precision as the plans run it: "int8 (7-bit weights, AVX2)".
    public let precision_summary: String
    /// INT8 only: "8-bit" or "7-bit" (`Int8WeightRange`).
    public let int8_weights: String?
    /// oneDNN's dispatch ISA ("AVX2" under `ONEDNN_MAX_CPU_ISA=AVX2`).
    public let isa: String
    /// INT8 only: what the activation ranges were measured on.
    public let calibration: String?
    /// The parallelism asked for (each row says what ran).
    public let parallelism: String
    /// The convolution algorithm asked for (each row counts its Winograd convolutions).
    public let convolutions: String
    public let engine: String
    public let max_relative_output_change: Double?
    /// With agreement data: the fraction of val images on which the reduced precision predicts fp32's class.
    public let top1_agreement_val: Double?
    /// With agreement data and a two-class model: val AUC of float32's plans and of these.
    public let val_auc_fp32: Double?
    public let val_auc: Double?
    /// What the rows were timed on: random normal inputs, or real images for a checked runtime.
    public let timing_inputs: String
    /// INT8 with a boundary check: its margin and what it was measured on.
    public let boundary_check: BoundaryCheckSummary?
    public let peer: String?
    public let peer_skipped: String?
    public let results: [InferenceBenchmarkRow]

    /// The terminal table. `calibratedOnImages`: whether INT8 ranges came from real images (otherwise the
    /// calibration line says the figures are for speed only).
    public func table(calibratedOnImages: Bool) -> String {
        var lines = ["\(model) \(input_shape.map(String.init).joined(separator: "×")), \(threads) threads, \(layout), \(precision_summary)"
                     + (max_relative_output_change.map { String(format: " (largest logit change vs fp32: %.2e of the logit scale)", $0) } ?? "")]
        lines.append("batch   median ms     p95 ms   per sample ms   samples/s   planned MB"
                     + (peer == nil ? "" : "   ORT median ms   ORT samples/s   ours/ORT latency   ours/ORT throughput") + "   plan")
        for r in results {
            var line = String(format: "%5d  %10.3f %10.3f %15.4f %11.1f %12.2f", r.batch, r.latency_ms.median, r.latency_ms.p95,
                              r.per_sample_ms, r.samples_per_s, Double(r.planned_bytes) / 1_048_576)
            if let o = r.onnxruntime, let lr = r.latency_ratio, let tr = r.throughput_ratio {
                line += String(format: " %15.3f %15.1f %18.2f× %20.2f×", o.latency_ms.median, o.samples_per_s, lr, tr)
            }
            lines.append(line + "   " + r.parallelism + r.convolution_counts.benchSummary)
        }
        for r in results where parallelism == PlanParallelism.auto.rawValue && r.batch > 1 { lines.append("batch \(r.batch): \(r.parallelism_reason)") }
        if let peer { lines.append("peer: \(peer), same file, same thread count, run right after ours for each batch size") }
        if let peer_skipped { lines.append("peer skipped: \(peer_skipped)") }
        if let calibration {
            lines.append("int8 calibration: \(calibration)" + (calibratedOnImages ? "" : " (speed figures only; --calibrate FILE.npz for accuracy)"))
        }
        if let b = boundary_check {
            lines.append(String(format: "boundary check: images whose top two logits lie within %.3f rerun in fp32 (%.1f × the largest change, %.3f, ",
                                b.margin, BoundaryCheck.safety, b.largest_change) + "on \(b.source))")
            lines.append("timed on \(timing_inputs); rerun: " + results.map { r in
                "\(r.batch): " + String(format: "%.1f%%", (r.boundary_rechecked ?? 0) * 100) }.joined(separator: ", "))
        }
        if let top1_agreement_val { lines.append(String(format: "top-1 agreement with fp32 on the val images: %.2f%%", top1_agreement_val * 100)) }
        if let val_auc, let val_auc_fp32 {
            lines.append(String(format: "val AUC: %.4f (fp32 %.4f, change %+.4f)", val_auc, val_auc_fp32, val_auc - val_auc_fp32))
        }
        return lines.joined(separator: "\n")
    }

    /// `boundary_check` in the JSON.
    public struct BoundaryCheckSummary: Encodable, Sendable {
        public let margin: Double
        public let largest_change: Double
        public let samples: Int
        public let source: String

        init(_ check: BoundaryCheck) {
            (margin, largest_change, samples, source) = (Double(check.margin), Double(check.largestChange), check.sampleCount, check.source)
        }
    }
}
