import Foundation
import Testing
@testable import Charts

/// Geometry of the interval chart: each interval encloses its estimate, references sit where the scales put
/// their values, and a band breaks where an estimate has no interval.
struct IntervalChartTests {
    static func unit(_ label: String) -> AxisSpec { AxisSpec(label, format: .fraction, domain: (0, 1)) }

    /// y = 1 − x with a ±0.05 interval, except at x = 0.5 (none): two band pieces.
    static let falling = IntervalChart(
        title: "falling", series: [.init(name: "s", estimates: (0...10).map { i in
            let x = Double(i) / 10, y = 1 - x
            return i == 5 ? .init(x: x, y: y) : .init(x: x, y: y, lower: max(0, y - 0.05), upper: min(1, y + 0.05))
        }, style: .band)],
        references: [.horizontal(0.98, label: "target"), .vertical(0.35, label: "t = 0.35")],
        xAxis: unit("x"), yAxis: unit("y"))

    @Test func bandsEncloseTheirLineAndBreakWhereAnIntervalIsMissing() {
        let l = Self.falling.layout()
        #expect(l.points[0].count == 11)
        #expect(l.intervals[0].count == 10)
        let withInterval = l.points[0].enumerated().filter { $0.offset != 5 }.map(\.element)
        for (p, r) in zip(withInterval, l.intervals[0]) {
            #expect(abs(r.x - p.x) < 1e-9)
            #expect(r.y <= p.y + 1e-9 && p.y <= r.maxY + 1e-9, "\(p) outside \(r)")
            #expect(l.plot.contains(r))
        }
        #expect(Self.falling.svg().components(separatedBy: "class=\"pc-a0\"").count - 1 == 2)
    }

    @Test func referencesSitOnTheScaleAndTheVerticalOneMarksTheLine() {
        let l = Self.falling.layout()
        #expect(abs(l.verticals[0] - (l.plot.x + 0.35 * l.plot.width)) < 1e-9)
        #expect(abs(l.horizontals[0] - (l.plot.maxY - 0.98 * l.plot.height)) < 1e-9)
        // Between x = 0.3 and 0.4 the line is interpolated: y = 0.65 at x = 0.35.
        #expect(l.crossings.count == 1)
        #expect(abs(l.crossings[0].x - l.verticals[0]) < 1e-9)
        #expect(abs(l.crossings[0].y - (l.plot.maxY - 0.65 * l.plot.height)) < 1e-9)
        let svg = Self.falling.svg()
        #expect(svg.contains(">t = 0.35</text>"))
        #expect(svg.contains(">target</text>"))
        #expect(svg.contains("<title>s at 35.0%: 65.0%</title>"))
    }

    @Test func errorBarsEncloseTheirPointAndLabelsNeverOverlap() {
        // Three bins at one place: the second label goes below the bar, the third has no room (its tooltip keeps it).
        let same = (1...3).map { IntervalChart.Estimate(x: 0.5, y: 0.4, lower: 0.3, upper: 0.55, label: "n\($0)") }
        let chart = IntervalChart(title: "reliability", series: [.init(name: "rate", estimates: same + [
            .init(x: 0.9, y: 0.95, lower: 0.99, upper: 0.8),  // bounds given upside down
            .init(x: 0.2, y: 0.1),  // no interval: a point, no bar
            .init(x: .nan, y: 0.5, lower: 0.4, upper: 0.6),  // not drawn
        ], style: .errorBars)], references: [.diagonal(label: "perfect calibration")], xAxis: Self.unit("p"), yAxis: Self.unit("rate"))
        let l = chart.layout()
        #expect(l.points[0].count == 5)
        #expect(l.intervals[0].count == 4)
        for r in l.intervals[0] { #expect(l.plot.contains(r)) }
        let bar = l.intervals[0][3]
        #expect(abs(bar.y - (l.plot.maxY - 0.99 * l.plot.height)) < 1e-9 && abs(bar.maxY - (l.plot.maxY - 0.8 * l.plot.height)) < 1e-9)
        let svg = chart.svg()
        #expect(svg.contains(">n1</text>") && svg.contains(">n2</text>") && !svg.contains(">n3</text>"))
        #expect(svg.contains("<title>rate: 50.0%, 40.0% [30.0%–55.0%] (n3)</title>"))
        #expect(svg.contains("perfect calibration"))
        #expect(l.crossings.isEmpty)  // error bars are not lines to read a threshold off
    }
}
