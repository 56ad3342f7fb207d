import Charts
import Foundation
import GraphCore
import Testing
@testable import Report
import TestSupport

/// One GFLOPs on the page (#21): the spec's convention (1 MAC = 1 FLOP) in every table and tile that shows one,
/// named beside it, and the same figure from a profile and a scorecard of the same model.
struct ComputeConventionReportTests {
    static let convention = "spec&#39;s convention: 1 MAC = 1 FLOP, as thop counts"

    @Test func theReportNamesTheSameConventionAsTheEngine() {
        #expect(Format.gflopsConvention == ComputeConvention.label)
    }

    @Test func profileAndSLAShowTheSameGFLOPsWithTheirConvention() throws {
        let html = RunReport.render(try RunDirectory(fixtureRun("full_run"))).html
        // The tile: the optimized model's 1,917,776 MACs are 0.00192 GFLOPs, convention beside it.
        #expect(html.contains("<div class=\"k\">Per image</div><div class=\"v\">0.00192 GFLOPs</div><div class=\"s\">\(Self.convention);"))
        // The profile table: a GFLOPs column before MACs and FLOPs, its convention in the caption.
        let profile = try #require(section("profile", of: html))
        #expect(profile.contains("GFLOPs in the \(Self.convention); FLOPs at 2 per MAC"))
        #expect(profile.contains("<th class=\"num\">GFLOPs</th><th class=\"num\">MACs</th><th class=\"num\">FLOPs</th>"))
        #expect(profile.contains("<td class=\"num\">1.81</td><td class=\"num\">1.81 GMAC</td><td class=\"num\">3.63 GFLOP</td>"))
        // The scorecard: the same 1.81 and 0.00192, the check and the row naming the convention.
        let sla = try #require(section("sla", of: html))
        #expect(sla.contains("<td>Compute per image (\(Self.convention))</td>"))
        #expect(sla.contains("<td>Compute per image, GFLOPs (\(Self.convention))</td><td class=\"num\">1.81 GFLOP</td><td class=\"num\">0.00192 GFLOP</td>"))
    }

    @Test func scorecardsPreferTheirMACs() throws {
        func card(_ extra: String) throws -> SLAFile {
            let text = #"{"gflops_per_sample": 0.5, "peak_memory_mb": 10, "latency_ms": 1.5, "amortized_latency_ms": 0.4, "#
                + #""throughput_samples_per_s": 2500, "sensitivity": 0.985, "specificity": 0.8, "auc": 0.96, "pass": true, "checks": []"#
                + extra + "}"
            return try JSONDecoder().decode(SLAFile.self, from: Data(text.utf8))
        }
        // Written with both counts: the spec's figure is the MACs'.
        #expect(try card(#", "macs_per_sample": 1e8, "flops_per_sample": 2e8"#).specGFLOPs == 0.1)
        // An older scorecard has only gflops_per_sample, which pneumo always wrote in the spec's convention.
        #expect(try card("").specGFLOPs == 0.5)
    }
}
