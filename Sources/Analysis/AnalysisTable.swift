import Foundation

/// The terminal rendering of an `AnalysisReport`: estimated and measured side by side per technique.
public enum AnalysisTable {
    static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        if s.count >= width { return s }
        let fill = String(repeating: " ", count: width - s.count)
        return left ? fill + s : s + fill
    }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f", 100 * $0) } ?? "–" }
    static func signedPercent(_ x: Double?) -> String { x.map { String(format: "%+.1f", 100 * $0) } ?? "–" }
    static func ratio(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "–" }
    static func small(_ x: Double?) -> String { x.map { $0 == 0 ? "0" : String(format: "%.1e", $0) } ?? "–" }
    static func mb(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1_048_576) }

    /// The ranking, the top two and the roadmap.
    static func findings(_ f: KeyFindings) -> [String] {
        var out = ["Key findings (\(f.benefit_definition))", "  rank  technique                   kind           benefit  basis"]
        for t in f.ranking {
            out.append("  " + pad("\(t.rank)", 4, left: true) + "  " + pad(t.name, 28) + pad(t.kind.rawValue, 13) + pad(ratio(t.benefit), 9, left: true)
                       + "  " + t.basis)
        }
        out.append("  top two architectural techniques: " + (f.top_two.isEmpty ? "none with a benefit above 1" : f.top_two.joined(separator: ", ")))
        out.append("Roadmap (\(f.combination_rule))")
        for p in f.roadmap { out.append("  Phase \(p.phase) (\(p.title)): \(p.summary)") }
        if f.roadmap.isEmpty { out.append("  no technique measured a benefit above 1") }
        return out
    }

    public static func render(_ r: AnalysisReport) -> String {
        var out: [String] = []
        let b = r.baseline
        out.append("\(r.model), input \(r.channels)×\(r.input_size)×\(r.input_size), \(r.threads) threads on \(r.device)")
        out.append(String(format: "baseline: %.2f M params, %.4f G MACs, batch-1 latency %.3f ms, batch-%d throughput %.1f samples/s,",
                          Double(b.parameters) / 1e6, Double(b.macs_per_sample) / 1e9, b.latency_ms, r.throughput_batch, b.throughput_samples_per_s))
        out.append("          planned memory \(mb(b.planned_bytes)) at batch 1 (weights \(mb(b.weight_bytes)), activations \(mb(b.activation_bytes)))")
        let shares = b.time_share.filter { $0.value >= 0.005 }.sorted { $0.value > $1.value }
            .map { "\($0.key) \(String(format: "%.0f", 100 * $0.value))%" }.joined(separator: ", ")
        out.append("          time by operation at batch 1: \(shares)")
        out.append("")
        out.append("Reductions and changes in % of the baseline (memory: planned bytes at batch 1; throughput at batch \(r.throughput_batch));")
        out.append("speedup = batch-1 latency ratio; times are minima over the runs, each rewrite timed interleaved with the baseline;")
        out.append("out Δ = max |Δ logit| / max |logit| on a fixed random batch.")
        let columns = ["params −%", "MACs −%", "speedup ×", "memory Δ%", "thruput Δ%"]
        var header1 = pad("", 26) + pad("cand", 5, left: true) + pad("retrain", 8, left: true) + "  "
        var header2 = pad("technique", 26) + pad("", 13) + "  "
        for c in columns { header1 += "│" + pad(c, 15); header2 += "│" + pad("est", 7, left: true) + pad("meas", 8, left: true) }
        header1 += "│ out Δ"; header2 += "│ meas"
        out.append(header1)
        out.append(header2)
        for t in r.techniques {
            let e = t.estimated, m = t.measured
            var line = pad(t.name, 26) + pad("\(t.candidate_layers)", 5, left: true) + pad(t.needs_retraining ? "yes" : "no", 8, left: true) + "  "
            let cells: [(String, String)] = [
                (percent(e.params_reduction), percent(m?.params_reduction)),
                (percent(e.macs_reduction), percent(m?.macs_reduction)),
                (ratio(e.speedup), ratio(m?.speedup)),
                (signedPercent(e.memory_change), signedPercent(m?.memory_change)),
                (signedPercent(e.throughput_change), signedPercent(m?.throughput_change)),
            ]
            for (est, meas) in cells { line += "│" + pad(est, 7, left: true) + pad(meas, 8, left: true) }
            line += "│ " + small(m?.max_output_change)
            out.append(line)
        }
        out.append("")
        out.append("Notes")
        for t in r.techniques {
            out.append("  \(t.name): risk \(t.sensitivity_risk)")
            out.append("    estimate: \(t.estimate_basis)")
            out.append("    measured: \(t.measurement)")
            if !t.details.isEmpty {
                let d = t.details.filter { !$0.key.contains("samples_per_s_batch") }.sorted { $0.key < $1.key }
                    .map { "\($0.key) \(abs($0.value) >= 1000 ? String(format: "%.0f", $0.value) : String(format: "%.3g", $0.value))" }
                if !d.isEmpty { out.append("    details: " + d.joined(separator: ", ")) }
            }
        }
        out.append("")
        out.append("Batching (estimate: latency linear in batch size, fitted on the two smallest batches)")
        out.append("  batch   latency ms   est samples/s   meas samples/s   planned memory")
        for p in r.batching {
            out.append(String(format: "  %5d  %11.3f  %14.1f  %15.1f   ", p.batch, p.latency_ms, p.estimated_samples_per_s, p.measured_samples_per_s)
                       + mb(p.planned_bytes))
        }
        if let f = r.findings { out += [""] + findings(f) }
        return out.joined(separator: "\n")
    }
}
