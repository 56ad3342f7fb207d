import Foundation
import TestSupport

/// A run directory of Fixtures/ (test fixtures written by Fixtures/make_fixtures.py; made-up values).
func fixtureRun(_ name: String) -> URL { fixtureURL(name, in: .module) }

/// The charts the full fixture run must produce, by name (`charts/<name>.svg`, `id="chart-<name>"`).
let fullRunCharts = [
    "class_distribution", "loss", "accuracy", "auc", "roc", "reliability_baseline", "operating_curve_baseline",
    "reliability_optimized", "operating_curve_optimized", "latency_baseline", "latency_optimized",
    "operation_breakdown", "layer_macs_baseline", "layer_macs_optimized", "sweep_latency", "sweep_throughput",
    "optimization_speedup", "optimization_macs",
]

/// The HTML of one section, `<section id="…">` to its `</section>`.
func section(_ id: String, of html: String) -> String? {
    guard let start = html.range(of: "<section id=\"\(id)\">") else { return nil }
    guard let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.lowerBound..<end.upperBound])
}

/// The SVG documents embedded as `<img src="data:image/svg+xml;base64,…">`, decoded.
func embeddedSVGs(_ html: String) -> [String] {
    html.components(separatedBy: "src=\"data:image/svg+xml;base64,").dropFirst().compactMap { rest in
        rest.split(separator: "\"", maxSplits: 1).first.flatMap { Data(base64Encoded: String($0)) }.map { String(decoding: $0, as: UTF8.self) }
    }
}
