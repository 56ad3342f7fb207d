@testable import Analysis
import Testing

/// The ranking, top two and roadmap, on techniques whose measurements are given: the arithmetic of `KeyFindings`.
@Suite struct KeyFindingsTests {
    static func technique(_ name: String, speedup: Double?, throughput: Double?, macs: Double? = nil, params: Double? = nil,
                          retraining: Bool = true, measured: Bool = true) -> TechniqueAnalysis {
        let values = Measurement(params_reduction: params, macs_reduction: macs, speedup: speedup, throughput_change: throughput)
        return TechniqueAnalysis(name: name, candidate_layers: 1, candidates: [], needs_retraining: retraining, sensitivity_risk: "low",
                                 estimated: measured ? Estimate() : Estimate(params_reduction: params, macs_reduction: macs, speedup: speedup,
                                                                             throughput_change: throughput),
                                 measured: measured ? values : nil, estimate_basis: "", measurement: "", details: [:])
    }

    static func report(_ techniques: [TechniqueAnalysis]) -> AnalysisReport {
        AnalysisReport(model: "m", input_size: 64, channels: 3, threads: 2, device: "cpu", throughput_batch: 64,
                       baseline: BaselineSummary(parameters: 1, macs_per_sample: 1, latency_ms: 1, throughput_samples_per_s: 1, planned_bytes: 1,
                                                 weight_bytes: 1, activation_bytes: 1, time_share: [:]),
                       techniques: techniques, batching: [])
    }

    @Test func techniquesRankByMeasuredBenefitAndTheRoadmapCombinesThem() throws {
        let f = KeyFindings.derive(from: Self.report([
            Self.technique("grouped_convolutions", speedup: 1.2, throughput: 0.2, macs: 0.5, params: 0.5),           // benefit 1.2
            Self.technique("interpolation_removal", speedup: 9, throughput: 15, macs: 0.9, params: 0),               // √(9·16) = 12
            Self.technique("depthwise_separable", speedup: 2, throughput: 1, macs: 0.8, params: 0.8, measured: false), // estimated: 2
            Self.technique("channel_pruning", speedup: 0.9, throughput: -0.2),                                        // benefit < 1
            Self.technique("int8_quantization", speedup: 1.5, throughput: 0.5, retraining: false),                  // 1.5
            Self.technique("batch_norm_folding", speedup: 1.1, throughput: 0.1, retraining: false),                 // 1.1
        ]))
        #expect(f.ranking.map(\.name) == ["interpolation_removal", "depthwise_separable", "int8_quantization", "grouped_convolutions",
                                          "batch_norm_folding", "channel_pruning"])
        #expect(f.ranking.map(\.rank) == Array(1...6))
        #expect(abs(f.ranking[0].benefit! - 12) < 1e-12)
        #expect(f.ranking[1].basis == "estimated" && f.ranking[0].basis == "measured")
        #expect(f.ranking.first { $0.name == "int8_quantization" }?.kind == .deployment)
        #expect(f.top_two == ["interpolation_removal", "depthwise_separable"])
        #expect(f.roadmap.map(\.techniques) == [["interpolation_removal", "int8_quantization"],
                                                ["depthwise_separable", "batch_norm_folding"]])
        let first = f.roadmap[0]
        #expect(abs(first.combined_speedup! - 13.5) < 1e-12)            // 9 × 1.5
        #expect(abs(first.combined_macs_reduction! - 0.9) < 1e-12)      // INT8 says nothing of MACs
        #expect(first.needs_retraining && f.roadmap[1].needs_retraining)   // each phase has an architectural technique
        #expect(first.summary.contains("about 13.50× faster at batch 1") && first.summary.contains("90% fewer MACs"))
    }

    @Test func nothingIsRecommendedWithoutABenefit() {
        let f = KeyFindings.derive(from: Self.report([Self.technique("channel_pruning", speedup: 0.8, throughput: -0.1)]))
        #expect(f.top_two.isEmpty && f.roadmap.isEmpty && f.ranking.count == 1)
    }
}
