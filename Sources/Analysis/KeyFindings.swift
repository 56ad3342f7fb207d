import Foundation

/// The spec's "key findings" and "recommended optimization roadmap", derived from the measurements: techniques
/// ranked by measured benefit, the top two architectural ones, and two phases with their combined effect.
public struct KeyFindings: Codable, Sendable, Equatable {
    public static let benefitDefinition =
        "benefit = √(batch-1 speed-up × throughput ratio), both measured on the rewritten model (estimated where it was not applied)"
    public static let combinationRule =
        "a phase's combined effect multiplies its techniques' speed-ups and keeps what each leaves of the MACs and parameters: it assumes their effects independent"

    public var benefit_definition: String
    public var ranking: [RankedTechnique]
    /// The two architectural techniques of highest benefit (the spec's "top 2 optimization opportunities").
    public var top_two: [String]
    public var roadmap: [RoadmapPhase]
    public var combination_rule: String

    /// Ranks `report`'s techniques and builds the roadmap. Phase 1 takes the best architectural and the best
    /// deployment technique; phase 2 the next of each. Only a technique with a benefit above 1 is recommended.
    public static func derive(from report: AnalysisReport) -> KeyFindings {
        let ranked = report.techniques.map(RankedTechnique.init)
            .sorted { ($0.benefit ?? 0, $0.name) > ($1.benefit ?? 0, $1.name) }
            .enumerated().map { i, t in var t = t; t.rank = i + 1; return t }
        let helpful = ranked.filter { ($0.benefit ?? 0) > 1 }
        let architecture = helpful.filter { $0.kind == .architecture }, deployment = helpful.filter { $0.kind == .deployment }
        let phases = [(1, "Quick wins", 0), (2, "Extra impact", 1)].compactMap { number, title, index -> RoadmapPhase? in
            let chosen = [architecture.dropFirst(index).first, deployment.dropFirst(index).first].compactMap { $0 }
            return chosen.isEmpty ? nil : RoadmapPhase(phase: number, title: title, techniques: chosen)
        }
        return KeyFindings(benefit_definition: benefitDefinition, ranking: ranked,
                           top_two: Array(architecture.prefix(2).map(\.name)), roadmap: phases, combination_rule: combinationRule)
    }
}

public struct RankedTechnique: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case architecture, deployment }

    public var rank = 0
    public var name: String
    public var kind: Kind
    public var benefit: Double?
    public var speedup: Double?
    public var throughput_change: Double?
    public var macs_reduction: Double?
    public var params_reduction: Double?
    /// "measured" (applied and timed), "estimated" (the estimate alone) or "none" (neither says).
    public var basis: String
    public var needs_retraining: Bool
    public var sensitivity_risk: String

    /// Techniques that change how the same model runs rather than what it is (`DeploymentTechniques.swift`).
    static let deploymentNames: Set<String> = [
        "batch_norm_folding", "mixed_precision_fp16", "mixed_precision_bf16", "int8_quantization", "batching",
    ]

    init(_ t: TechniqueAnalysis) {
        name = t.name
        kind = Self.deploymentNames.contains(t.name) ? .deployment : .architecture
        needs_retraining = t.needs_retraining
        sensitivity_risk = t.sensitivity_risk
        if let m = t.measured, m.speedup != nil || m.throughput_change != nil {
            basis = "measured"
            (speedup, throughput_change, macs_reduction, params_reduction) = (m.speedup, m.throughput_change, m.macs_reduction, m.params_reduction)
        } else {
            let e = t.estimated
            basis = e.speedup != nil || e.throughput_change != nil ? "estimated" : "none"
            (speedup, throughput_change, macs_reduction, params_reduction) = (e.speedup, e.throughput_change, e.macs_reduction, e.params_reduction)
        }
        benefit = Self.benefit(speedup: speedup, throughputChange: throughput_change)
    }

    /// The geometric mean of the two speed measures a technique has; one alone where the other is unknown.
    static func benefit(speedup: Double?, throughputChange: Double?) -> Double? {
        let ratio = throughputChange.map { 1 + $0 }
        switch (speedup, ratio) {
        case let (s?, r?) where s > 0 && r > 0: return (s * r).squareRoot()
        case let (s?, _) where s > 0: return s
        case let (_, r?) where r > 0: return r
        default: return nil
        }
    }
}

public struct RoadmapPhase: Codable, Sendable, Equatable {
    public var phase: Int
    public var title: String
    public var techniques: [String]
    /// Batch-1 speed-up of the phase's techniques together (`KeyFindings.combinationRule`).
    public var combined_speedup: Double?
    public var combined_macs_reduction: Double?
    public var combined_params_reduction: Double?
    public var needs_retraining: Bool
    public var summary: String

    init(phase: Int, title: String, techniques chosen: [RankedTechnique]) {
        self.phase = phase; self.title = title
        techniques = chosen.map(\.name)
        let speedups = chosen.compactMap(\.speedup)
        combined_speedup = speedups.isEmpty ? nil : speedups.reduce(1, *)
        func kept(_ reductions: [Double?]) -> Double? {
            let known = reductions.compactMap { $0 }
            return known.isEmpty ? nil : 1 - known.map { 1 - $0 }.reduce(1, *)
        }
        combined_macs_reduction = kept(chosen.map(\.macs_reduction))
        combined_params_reduction = kept(chosen.map(\.params_reduction))
        needs_retraining = chosen.contains { $0.needs_retraining }
        var parts = [techniques.joined(separator: " + ")]
        if let s = combined_speedup { parts.append(String(format: "about %.2f× faster at batch 1", s)) }
        if let m = combined_macs_reduction { parts.append(String(format: "%.0f%% fewer MACs", 100 * m)) }
        if let p = combined_params_reduction { parts.append(String(format: "%.0f%% fewer parameters", 100 * p)) }
        parts.append(needs_retraining ? "needs retraining" : "no retraining")
        summary = parts.joined(separator: "; ")
    }
}
