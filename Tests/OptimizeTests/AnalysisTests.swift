import Analysis
import Foundation
import GraphCore
import Models
import NN
import Optimize
import Runtime
import Testing

/// The analysis end to end on a small upsampling ResNet (the spec baseline's shape at width 0.25, 32 → 64
/// px), with few timed runs: every technique is present, analytic estimates of counts agree with the
/// measured counts of the applied rewrites, function-preserving techniques keep the output, and the JSON
/// has the report's fields. Times are exercised, never asserted on. The suite's tests read one report, made once by the
/// first of them (serialized: the others would hold pool threads waiting for it).
@Suite(.serialized) struct AnalysisTests {
    private static let shared = Result { try makeReport() }
    static func report() throws -> AnalysisReport { try shared.get() }

    private static func makeReport() throws -> AnalysisReport {
        let m = try ModelGraph(ResNet18(inChannels: 3, width: 0.25, upsampleTo: 64), inputShape: [1, 3, 32, 32], seed: 1)
        var options = OptimizationAnalysis.Options()
        options.runs = 2; options.warmup = 0; options.throughputBatch = 4; options.batchSizes = [1, 2, 4]; options.checkBatch = 2
        options.randomizeBatchNorm = true
        return try OptimizationAnalysis.run(name: "baseline-small", graph: m.graph, parameters: m.parameters, sampleShape: [3, 32, 32],
                                            options: options)
    }

    @Test func analysisCoversEveryTechniqueAndAgreesWithTheRewrites() throws {
        let r = try Self.report()
        #expect(r.techniques.map(\.name) == ["interpolation_removal", "grouped_convolutions", "depthwise_separable", "inverted_residuals",
                                             "low_rank_factorization", "channel_organization", "parameter_sharing", "channel_pruning",
                                             "batch_norm_folding", "mixed_precision_fp16", "mixed_precision_bf16", "int8_quantization",
                                             "batching"])
        func t(_ name: String) -> TechniqueAnalysis { r.technique(name)! }

        // Counts: the spec's arithmetic (estimate) is what the rewrite produced (measurement).
        for name in ["grouped_convolutions", "depthwise_separable", "low_rank_factorization", "parameter_sharing", "channel_pruning",
                     "batch_norm_folding"] {
            let e = t(name).estimated, m = try #require(t(name).measured)
            #expect(abs(e.params_reduction! - m.params_reduction!) < 1e-9, "\(name) params: \(e.params_reduction!) vs \(m.params_reduction!)")
            #expect(abs(e.macs_reduction! - m.macs_reduction!) < 1e-9, "\(name) MACs: \(e.macs_reduction!) vs \(m.macs_reduction!)")
        }
        #expect(t("grouped_convolutions").candidate_layers == 16)
        #expect(t("parameter_sharing").candidate_layers == 5)
        #expect(t("channel_pruning").candidate_layers == 8)
        #expect(t("inverted_residuals").candidate_layers == 3)
        #expect(t("inverted_residuals").measured?.max_output_change == nil)

        // Interpolation: 64² / 32² = 4, MACs −(1 − 1/4) in the estimate; measured a little less (the head does not scale).
        let interp = t("interpolation_removal")
        #expect(interp.details["interpolation_factor"] == 4)
        #expect(abs(interp.estimated.macs_reduction! - 0.75) < 1e-12)
        #expect(interp.measured!.macs_reduction! > 0.7 && interp.measured!.macs_reduction! <= 0.75)
        #expect(interp.measured!.max_output_change! == 0)          // exact at the native 64 px
        #expect(interp.details["output_change_at_input_size"]! > 1e-3)

        // Function-preserving techniques are checked, not retrained.
        #expect(t("batch_norm_folding").measured!.max_output_change! < 1e-4)
        #expect(t("channel_organization").measured!.max_output_change! < 1e-4)
        #expect(t("mixed_precision_fp16").measured!.max_output_change! < 5e-3)
        #expect(t("mixed_precision_bf16").measured!.max_output_change! < 0.1)
        // The runtime's FP16 plan is timed where the streaming kernel converts half weights (AVX2 with F16C, AVX-512F).
        #expect((t("mixed_precision_fp16").measured!.speedup != nil) == Precision.isSupported(.fp16))
        if Precision.isSupported(.fp16) { #expect(t("mixed_precision_fp16").measurement.contains("runtime's FP16 plan")) }
        // INT8 is timed (the runtime compiles it everywhere) and, calibrated on random inputs like the
        // check batch, stays within a tenth of the logit scale.
        #expect(t("int8_quantization").measured!.speedup != nil)
        #expect(t("int8_quantization").measured!.max_output_change! < 0.1)
        #expect(t("int8_quantization").candidate_layers == 20)
        for name in ["channel_organization", "batch_norm_folding", "mixed_precision_fp16", "mixed_precision_bf16", "int8_quantization",
                     "batching"] {
            #expect(!t(name).needs_retraining, "\(name)")
        }
        for name in ["interpolation_removal", "grouped_convolutions", "depthwise_separable", "inverted_residuals", "low_rank_factorization",
                     "parameter_sharing", "channel_pruning"] {
            #expect(t(name).needs_retraining, "\(name)")
        }
        #expect(r.batching.map(\.batch) == [1, 2, 4])
        #expect(r.techniques.allSatisfy { !$0.sensitivity_risk.isEmpty })
    }

    @Test func jsonHasTheReportFieldsWithExplicitNulls() throws {
        let r = try Self.report()
        let data = try JSONEncoder().encode(r)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["model"] as? String == "baseline-small")
        #expect(object["input_size"] as? Int == 32)
        let techniques = try #require(object["techniques"] as? [[String: Any]])
        for t in techniques {
            for key in ["name", "candidate_layers", "needs_retraining", "sensitivity_risk", "estimated", "measured"] {
                #expect(t.keys.contains(key), "\(t["name"] ?? "?") lacks \(key)")
            }
            let estimated = try #require(t["estimated"] as? [String: Any])
            #expect(Set(estimated.keys) == ["params_reduction", "macs_reduction", "speedup", "memory_change", "throughput_change"])
            if let measured = t["measured"] as? [String: Any] {
                #expect(Set(measured.keys) == ["params_reduction", "macs_reduction", "speedup", "memory_change", "throughput_change",
                                               "max_output_change"])
            }
        }
        let fp16 = try #require(techniques.first { $0["name"] as? String == "mixed_precision_fp16" }?["measured"] as? [String: Any])
        #expect(Precision.isSupported(.fp16) ? fp16["speedup"] is Double : fp16["speedup"] is NSNull)
        // A technique that was not measured still has the key, as null.
        var unmeasured = r.techniques[0]
        unmeasured.measured = nil
        let one = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(unmeasured)) as? [String: Any])
        #expect(one["measured"] is NSNull)
        // The baseline's compute under the names every JSON uses: MACs and FLOPs (2 per MAC).
        let baseline = try #require(object["baseline"] as? [String: Any])
        #expect(baseline["flops_per_sample"] as? Int == 2 * r.baseline.macs_per_sample)
        // Round trip.
        let decoded = try JSONDecoder().decode(AnalysisReport.self, from: data)
        #expect(decoded.techniques.count == r.techniques.count)
        #expect(decoded.technique("grouped_convolutions")?.measured?.params_reduction == r.technique("grouped_convolutions")?.measured?.params_reduction)
    }

    @Test func tableShowsEstimatedAndMeasuredSideBySide() throws {
        let r = try Self.report()
        #expect(r.findings?.ranking.count == r.techniques.count)
        let text = AnalysisTable.render(r)
        #expect(text.contains("Key findings") && text.contains("top two architectural techniques"))
        #expect(text.contains("est") && text.contains("meas"))
        #expect(text.contains("grouped_convolutions") && text.contains("Batching"))
    }
}
