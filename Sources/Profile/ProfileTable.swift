import Foundation
import GraphCore

/// The terminal rendering of a `ModelProfile`.
public enum ProfileTable {
    static func mb(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1_048_576) }

    /// `steps`: how many of the slowest plan steps to list.
    public static func render(_ p: ModelProfile, steps: Int = 8) -> String {
        var out: [String] = []
        let shape = p.input_shape.map(String.init).joined(separator: "×")
        out.append("\(p.model), input \(shape), \(p.threads) threads on \(p.device)")
        out.append("")
        out.append("Compute (per sample; MACs = conv + linear multiply-accumulates, FLOPs = 2 per MAC)")
        out.append(String(format: "  GFLOPs %.4f (%@)   MACs %.4f G   FLOPs %.4f G   parameters %d (%.1f MB)", p.gflops_per_sample,
                          ComputeConvention.label, Double(p.macs_per_sample) / 1e9, Double(p.flops_per_sample) / 1e9,
                          p.parameters, p.model_size_mb))
        if p.resize_elements_per_sample > 0 {
            out.append(String(format: "  bilinear resize: %.2f M interpolated elements (not in the MACs)", Double(p.resize_elements_per_sample) / 1e6))
        }
        if p.elementwise_ops_per_sample > 0 {
            out.append(String(format: "  element-wise: %.2f M operations (activations, sums, products, softmax, means; not in the MACs)",
                              Double(p.elementwise_ops_per_sample) / 1e6))
        }
        out.append("  top layers:")
        for l in p.layers.filter({ $0.macs > 0 }).sorted(by: { $0.macs > $1.macs }).prefix(5) {
            out.append("    " + l.name.padded(to: 28) + l.op.padded(to: 10) + String(format: "%8.2f M MACs %5.1f%%", Double(l.macs) / 1e6, l.share_percent))
        }
        out.append("")
        out.append("Memory (planned = parameters + activations + workspace + output; measured = allocator high-water mark)")
        for m in p.memory {
            out.append("  batch \(m.batch): params \(mb(m.parameters_bytes)), activations \(mb(m.activations_bytes)), workspace \(mb(m.workspace_bytes)) → planned \(mb(m.planned)), measured \(mb(m.measured)); process peak RSS \(mb(m.process_peak_rss_bytes))")
        }
        out.append("")
        let l = p.latency_ms
        out.append("Time" + (p.runs.map { r in " (\(r) timed runs after \(p.warmup ?? 0) warm-ups, on \(p.timing_input ?? "random normal inputs"))" } ?? ""))
        // A reduced-precision plan's summary already names its precision ("…, int8 (7-bit weights, AVX2)").
        let precision = (p.precision ?? "fp32") == "fp32" ? "fp32, " : ""
        out.append("  plan: \(p.plan); \(precision)convolutions \(p.convolutions ?? "direct"), parallelism \(p.parallelism ?? "intra-op")"
                   + (p.convolutions == "auto" && p.parallelism == "auto" ? ", as a deployed runtime compiles it" : ""))
        if let c = p.calibration {
            out.append("  int8 activation ranges measured on \(c)" + (p.calibration_random == true ? " (true timings; says nothing of accuracy)" : ""))
        }
        out.append(String(format: "  batch 1:  mean %.3f ms  median %.3f  p95 %.3f  std %.3f", l.mean, l.median, l.p95, l.std))
        let b = p.batch_latency
        out.append(String(format: "  batch %d: mean %.3f ms  median %.3f  p95 %.3f  std %.3f → %.1f samples/s, %.4f ms per sample",
                          b.batch, b.latency_ms.mean, b.latency_ms.median, b.latency_ms.p95, b.latency_ms.std,
                          p.throughput_samples_per_s, p.amortized_latency_ms))
        out.append("")
        out.append(String(format: "Time by operation (batch 1, %@; steps add up to %.0f%% of the end-to-end time)", p.step_plan ?? p.plan,
                          p.breakdown_coverage * 100))
        for (k, v) in p.operation_breakdown.sorted(by: { $0.value > $1.value }) where v > 0 {
            out.append("  " + k.padded(to: 18) + String(format: "%5.1f%%  %.3f ms", v, p.operation_ms[k] ?? 0))
        }
        for (title, times) in [("slowest steps", p.step_ms), ("slowest steps at batch \(p.batch_latency.batch)", p.batch_step_ms ?? [])] {
            let slowest = times.sorted { $0.ms > $1.ms }.prefix(max(steps, 0))
            if slowest.isEmpty { continue }
            out.append("  \(title):")
            for s in slowest { out.append("    " + s.name.padded(to: 28) + s.kind.padded(to: 18) + String(format: s.ms < 0.1 ? "%.4f ms" : "%.3f ms", s.ms)) }
        }
        out.append("")
        out.append("Batch sweep")
        out.append("  batch   latency ms   per sample ms   samples/s")
        for s in p.sweep {
            out.append(String(format: "  %5d  %11.3f  %14.4f  %10.1f", s.batch, s.latency_ms, s.per_sample_ms, s.samples_per_s))
        }
        out.append("  real-time (whole batch within \(p.realtime_budget_ms) ms): batch \(p.best_batch_realtime.map(String.init) ?? "none"); throughput: batch \(p.best_batch_throughput.map(String.init) ?? "-")")
        if let notes = p.spec_differences, !notes.isEmpty {
            out.append("")
            for note in notes { out.append("note: " + note) }
        }
        return out.joined(separator: "\n")
    }
}
