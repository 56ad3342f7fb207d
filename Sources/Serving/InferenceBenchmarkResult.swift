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
    /// Convolutions the plan runs by Winograd (either variant), of all its convolutions.
    public let winograd_convolutions: Int
    /// Of those, the ones by F(4×4, 3×3).
    public let winograd_f4x4_convolutions: Int
    /// Convolutions on the weight-streaming kernel, and on our depthwise kernel; steps on our separable kernel (each
    /// one depthwise and one 1×1 convolution); all convolution steps.
    public let streaming_convolutions: Int
    public let depthwise_convolutions: Int
    public let separable_convolutions: Int
    public let convolutions: Int
    /// ONNX Runtime on the same file at this batch size, and our median latency / theirs and our throughput / theirs.
    public var onnxruntime: ONNXRuntimePeer.Row?
    public var latency_ratio: Double?
    public var throughput_ratio: Double?
}

/// What `pneumo bench infer` prints: the model, how the runtime was configured, and a row per batch size.
public struct InferenceBenchmarkResult: Encodable, Sendable {
    public let model: String
    public let input_shape: [Int]
    public let threads: Int
    public let layout: String
    public let precision: String
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
    public let peer: String?
    public let peer_skipped: String?
    public let results: [InferenceBenchmarkRow]

    /// The terminal table. `calibratedOnImages`: whether INT8 ranges came from real images (otherwise the
    /// calibration line says the figures are for speed only).
    public func table(calibratedOnImages: Bool) -> String {
        var lines = ["\(model) \(input_shape.map(String.init).joined(separator: "×")), \(threads) threads, \(layout), \(precision)"
                     + (max_relative_output_change.map { String(format: " (largest logit change vs fp32: %.2e of the logit scale)", $0) } ?? "")]
        lines.append("batch   median ms     p95 ms   per sample ms   samples/s   planned MB"
                     + (peer == nil ? "" : "   ORT median ms   ORT samples/s   ours/ORT latency   ours/ORT throughput") + "   plan")
        for r in results {
            var line = String(format: "%5d  %10.3f %10.3f %15.4f %11.1f %12.2f", r.batch, r.latency_ms.median, r.latency_ms.p95,
                              r.per_sample_ms, r.samples_per_s, Double(r.planned_bytes) / 1_048_576)
            if let o = r.onnxruntime, let lr = r.latency_ratio, let tr = r.throughput_ratio {
                line += String(format: " %15.3f %15.1f %18.2f× %20.2f×", o.latency_ms.median, o.samples_per_s, lr, tr)
            }
            lines.append(line + "   " + r.parallelism + ", \(r.winograd_convolutions)/\(r.convolutions) convs winograd"
                         + (r.winograd_f4x4_convolutions > 0 ? " (\(r.winograd_f4x4_convolutions) F(4×4))" : "")
                         + (r.streaming_convolutions > 0 ? ", \(r.streaming_convolutions) streaming" : "")
                         + (r.depthwise_convolutions > 0 ? ", \(r.depthwise_convolutions) depthwise" : "")
                         + (r.separable_convolutions > 0 ? ", \(r.separable_convolutions) separable" : ""))
        }
        for r in results where parallelism == PlanParallelism.auto.rawValue && r.batch > 1 { lines.append("batch \(r.batch): \(r.parallelism_reason)") }
        if let peer { lines.append("peer: \(peer), same file, same thread count, run right after ours for each batch size") }
        if let peer_skipped { lines.append("peer skipped: \(peer_skipped)") }
        if let calibration {
            lines.append("int8 calibration: \(calibration)" + (calibratedOnImages ? "" : " (speed figures only; --calibrate FILE.npz for accuracy)"))
        }
        if let top1_agreement_val { lines.append(String(format: "top-1 agreement with fp32 on the val images: %.2f%%", top1_agreement_val * 100)) }
        return lines.joined(separator: "\n")
    }
}
