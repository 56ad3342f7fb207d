import Foundation
import Testing
@testable import Charts

/// Geometry of the charts: everything drawn inside its plot, proportional to its value, in order.
struct ChartGeometryTests {
    @Test func verticalBarsAreInsideThePlotAndProportional() {
        let chart = BarChart(title: "counts", categories: ["train", "val", "test"],
                             series: [.init(name: "normal", values: [1214, 135, 234]), .init(name: "pneumonia", values: [3494, 389, 390])],
                             valueLabel: "Images", format: .integer)
        let l = chart.layout()
        #expect(l.bars.count == 6)
        for bar in l.bars { #expect(l.plot.contains(bar.rect), "\(bar)") }
        let zero = l.valueScale(0)
        for bar in l.bars {
            #expect(abs(bar.rect.maxY - zero) < 1e-9)  // bars stand on the zero line
            let perUnit = bar.rect.height / bar.value
            #expect(abs(perUnit - l.bars[0].rect.height / l.bars[0].value) < 1e-9)
        }
        // Within a group, series go left to right; groups go left to right.
        let xs = l.bars.sorted { ($0.category, $0.series) < ($1.category, $1.series) }.map(\.rect.x)
        #expect(xs == xs.sorted())
        #expect(l.plot.maxX <= chart.width && l.plot.maxY <= chart.height)
    }

    @Test func manyHorizontalBarsGrowTheChartAndNeverOverlap() {
        let names = (0..<120).map { "layer\($0 / 10).\($0 % 10).conv_with_a_rather_long_name" }
        let values = (0..<120).map { Double(($0 * 7919) % 1000 + 1) * 1e5 }
        let chart = BarChart(title: "MACs", categories: names, series: [.init(name: "MACs", values: values)],
                             orientation: .horizontal, valueLabel: "MACs", format: .count, barThickness: 10)
        let l = chart.layout()
        #expect(l.bars.count == 120)
        #expect(l.height > 120 * 10)
        for bar in l.bars { #expect(l.plot.contains(bar.rect)) }
        let sorted = l.bars.map(\.rect).sorted { $0.y < $1.y }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.maxY <= b.y) }
        // Every bar starts at zero and the longest reaches at most the plot's right edge.
        for bar in l.bars { #expect(abs(bar.rect.x - l.valueScale(0)) < 1e-9) }
        let svg = chart.svg()
        #expect(svg.contains("…"))  // long names are cut…
        #expect(svg.contains("<title>layer0.0.conv_with_a_rather_long_name</title>"))  // …and given whole in a tooltip
    }

    @Test func negativeBarsHangFromZero() {
        let chart = BarChart(title: "change", categories: ["a", "b"], series: [.init(name: "x", values: [-0.3, 0.6])],
                             orientation: .horizontal, valueLabel: "Change (%)", format: .fraction)
        let l = chart.layout()
        let zero = l.valueScale(0)
        #expect(abs(l.bars[0].rect.maxX - zero) < 1e-9)
        #expect(abs(l.bars[1].rect.x - zero) < 1e-9)
        for bar in l.bars { #expect(l.plot.contains(bar.rect)) }
    }

    @Test func missingValuesDrawNoBar() {
        let chart = BarChart(title: "speed-up", categories: ["a", "b"],
                             series: [.init(name: "estimated", values: [2, 3]), .init(name: "measured", values: [1.5, nil])],
                             orientation: .horizontal, valueLabel: "×", format: .speedup)
        #expect(chart.layout().bars.count == 3)
    }

    static let distributions: [[Double]] = {
        let spread: [Double] = [0.91, 0.95, 0.97, 1.02, 1.05, 1.1, 1.3, 0.99, 0.98, 1.0]
        let constant: [Double] = Array(repeating: 2.5, count: 17)
        var tail: [Double] = (0..<1000).map { 1 + Double($0 % 97) / 50 }
        tail += [40, 55, 80]  // a long tail: clipped, still counted
        let tenths: [Double] = [0.3, 0.1, 0.2, 0.4, 0.5]
        let signed: [Double] = [-3, -1, 0, 2, 7.5]
        return [spread, constant, tail, tenths, signed, [42]]
    }()

    @Test(arguments: distributions)
    func histogramCountsEveryValueOnce(values: [Double]) {
        let h = Histogram(title: "latency", values: values + [.nan], binCount: 20,
                          xAxis: AxisSpec("Latency (ms)", format: .milliseconds),
                          markers: [.init("p50", value: Histogram.quantile(values, 0.5)!)])
        let l = h.layout()
        #expect(l.bins.map(\.count).reduce(0, +) == values.count)
        for (a, b) in zip(l.bins, l.bins.dropFirst()) { #expect(a.x1 == b.x0) }
        #expect(l.bins.first!.x0 <= values.min()!)
        for r in l.rects { #expect(l.plot.contains(r)) }
        #expect(h.svg().contains("p50"))
    }

    @Test func histogramClipsALongTailIntoTheLastBin() {
        let values = (0..<200).map { 1 + Double($0 % 20) / 20 } + [30, 50]
        let l = Histogram(title: "t", values: values, xAxis: AxisSpec("ms")).layout()
        #expect(l.overflow == 2)
        #expect(l.bins.last!.x1 < 30)
        #expect(l.bins.map(\.count).reduce(0, +) == values.count)
    }

    @Test func histogramBinsHaveRoundEdgesAndHalfOpenIntervals() {
        let bins = Histogram.bins([0.3, 0.1, 0.2, 0.4, 0.5], count: 5)
        #expect(bins.map(\.x0) == [0.1, 0.2, 0.3, 0.4])
        // 0.3 lies in [0.3, 0.4) (not in the bin below, as 0.3 / 0.1 = 2.999… would put it); 0.5, the
        // maximum, closes the last bin.
        #expect(bins.map(\.count) == [1, 1, 1, 2])
    }

    @Test func quantilesInterpolate() {
        #expect(Histogram.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(Histogram.quantile([5], 0.95) == 5)
        #expect(Histogram.quantile([], 0.5) == nil)
    }

    @Test func linePointsAreMonotoneInXAndInsideThePlot() {
        let chart = LineChart(title: "loss", series: [
            .init(name: "train", points: [DataPoint(3, 0.3), DataPoint(1, 0.6), DataPoint(2, 0.4), DataPoint(4, .nan)]),
            .init(name: "val", points: (1...20).map { DataPoint(Double($0), 1 / Double($0)) }),
        ], xAxis: AxisSpec("Epoch", format: .integer), yAxis: AxisSpec("Loss", includeZero: true))
        let l = chart.layout()
        #expect(l.series[0].count == 3)  // the NaN point is dropped
        for points in l.series {
            #expect(points.map(\.x) == points.map(\.x).sorted())
            for p in points { #expect(l.plot.contains(x: p.x, y: p.y)) }
        }
        // y = 1/epoch falls, so its pixels rise (y grows downwards).
        let val = l.series[1].map(\.y)
        #expect(val == val.sorted())
    }

    @Test func logAxisSpacesBatchSizesEvenly() {
        let chart = LineChart(title: "sweep", series: [.init(name: "m", points: [1, 2, 4, 8, 16].map { DataPoint($0, 10 / $0) })],
                              xAxis: AxisSpec("Batch", format: .integer, kind: .log(base: 2), ticksAtData: true),
                              yAxis: AxisSpec("ms", includeZero: true))
        let xs = chart.layout().series[0].map(\.x)
        let gaps = zip(xs, xs.dropFirst()).map { $1 - $0 }
        for g in gaps { #expect(abs(g - gaps[0]) < 1e-6) }
        #expect(chart.svg().contains(">16</text>"))
    }

    @Test func scatterHighlightsLieOnTheirPoints() {
        let roc = [DataPoint(0, 0), DataPoint(0.1, 0.7), DataPoint(0.3, 0.95), DataPoint(1, 1)]
        let chart = ScatterChart(title: "ROC", series: [.init(name: "ROC", points: roc, style: .area)],
                                 highlights: [.init(DataPoint(0.3, 0.95), label: "t = 0.31")],
                                 xAxis: AxisSpec("FPR", format: .fraction, domain: (0, 1)),
                                 yAxis: AxisSpec("TPR", format: .fraction, domain: (0, 1)), diagonal: "chance")
        let l = chart.layout()
        #expect(l.highlights[0] == l.series[0][2])
        #expect(abs(l.series[0][0].x - l.plot.x) < 1e-9 && abs(l.series[0][0].y - l.plot.maxY) < 1e-9)
        #expect(abs(l.series[0][3].x - l.plot.maxX) < 1e-9 && abs(l.series[0][3].y - l.plot.y) < 1e-9)
        let svg = chart.svg()
        #expect(svg.contains("class=\"pc-hi\""))
        #expect(svg.contains("chance"))
    }

    @Test func imageGridCellsTileWithoutOverlap() {
        let uri = "data:image/png;base64,iVBORw0KGgo="
        let grid = ImageGrid(title: "samples", items: (0..<10).map { .init(dataURI: uri, label: "#\($0)", color: $0 % 2) }, columns: 4)
        let l = grid.layout()
        #expect(l.cells.count == 10)
        let bounds = Rect(x: 0, y: 0, width: l.width, height: l.height)
        for c in l.cells { #expect(bounds.contains(c)) }
        for (i, a) in l.cells.enumerated() {
            for b in l.cells[(i + 1)...] {
                #expect(a.maxX <= b.x || b.maxX <= a.x || a.maxY <= b.y || b.maxY <= a.y)
            }
        }
        #expect(grid.svg().components(separatedBy: "<image ").count - 1 == 10)
    }

    @Test func imageGridRefusesAnythingButInlineImages() {
        let grid = ImageGrid(title: "s", items: [.init(dataURI: "http://example.com/x.png", label: "remote"),
                                                 .init(dataURI: "file:///etc/passwd", label: "file"),
                                                 .init(dataURI: "data:image/png;base64,AAAA", label: "ok")])
        let svg = grid.svg()
        #expect(!svg.contains("http://example.com"))
        #expect(!svg.contains("file:///"))
        #expect(svg.components(separatedBy: "<image ").count - 1 == 1)
    }

    @Test func everySVGHasTitleRoleAndViewBox() throws {
        for chart in sampleCharts() {
            let svg = chart.svg(standalone: true)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pc-chart\" role=\"img\" viewBox=\"0 0 "))
            #expect(svg.contains("<title>\(XML.escape(chart.title))</title>"))
            #expect(svg.contains("prefers-color-scheme: dark"))
            #expect(svg.contains("currentColor"))
            #expect(!svg.contains("#000") && !svg.contains("black"))  // no colour that vanishes on a dark page
            #expect(!chart.svg(standalone: false).contains("<style>"))
            #expect(svg == chart.svg(standalone: true))  // deterministic
            try expectWellFormedXML(svg)
        }
    }
}

/// One chart of each kind, with awkward data.
func sampleCharts() -> [any SVGChart] {
    [
        BarChart(title: "Bars & <bars>", categories: ["a", "b"], series: [.init(name: "s", values: [1, 2])], valueLabel: "n"),
        BarChart(title: "Horizontal", categories: ["x"], series: [.init(name: "s", values: [0])], orientation: .horizontal,
                 valueLabel: "n"),
        LineChart(title: "Lines", series: [.init(name: "a", points: [DataPoint(1, 1)]), .init(name: "b", points: [])],
                  xAxis: AxisSpec("x"), yAxis: AxisSpec("y")),
        ScatterChart(title: "Scatter", series: [.init(name: "p", points: [DataPoint(0, 0), DataPoint(1, 1)])],
                     xAxis: AxisSpec("x"), yAxis: AxisSpec("y"), diagonal: "y = x"),
        Histogram(title: "Histogram", values: [], xAxis: AxisSpec("ms", format: .milliseconds)),
        ImageGrid(title: "Images", items: []),
        IntervalChart(title: "Intervals", series: [.init(name: "none", estimates: [], style: .band),
                                                   .init(name: "one", estimates: [.init(x: 1, y: 1, lower: 0, upper: 2)], style: .errorBars)],
                      references: [.vertical(3, label: "v"), .diagonal(label: "y = x")], xAxis: AxisSpec("x"), yAxis: AxisSpec("y")),
    ]
}
