import Foundation
import Testing
@testable import Charts
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Labels are data: whatever they hold must come out as text, never as markup.
struct EscapingTests {
    static let hostile = "<script>alert(\"x\")</script> & 'quotes' \u{1}"

    @Test func escapeCoversTheFiveXMLCharacters() {
        #expect(XML.escape("<script>alert(\"x\")</script> & 'q'")
                == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;")
        #expect(XML.escape("plain µs ×") == "plain µs ×")
        #expect(XML.escape("a\u{1}b\tc\nd") == "a\u{FFFD}b\tc\nd")  // XML 1.0 forbids control characters
    }

    @Test func chartsEscapeEveryLabel() throws {
        let h = Self.hostile
        let charts: [any SVGChart] = [
            BarChart(title: h, subtitle: h, categories: [h, "ok"], series: [.init(name: h, values: [1, 2]), .init(name: "b", values: [2, 1])],
                     orientation: .horizontal, valueLabel: h, categoryLabel: h),
            BarChart(title: h, categories: [h], series: [.init(name: h, values: [1])], valueLabel: h, categoryLabel: h),
            LineChart(title: h, subtitle: h, series: [.init(name: h, points: [DataPoint(1, 2)]), .init(name: h, points: [DataPoint(2, 1)])],
                      xAxis: AxisSpec(h), yAxis: AxisSpec(h)),
            ScatterChart(title: h, series: [.init(name: h, points: [DataPoint(0, 1)])], highlights: [.init(DataPoint(0, 1), label: h),
                         .init(DataPoint(0, 1), label: h, primary: false)], xAxis: AxisSpec(h), yAxis: AxisSpec(h), diagonal: h),
            Histogram(title: h, subtitle: h, values: [1, 2, 3], xAxis: AxisSpec(h), yLabel: h, markers: [.init(h, value: 2)]),
            ImageGrid(title: h, items: [.init(dataURI: "data:image/png;base64,AAAA", label: h)]),
            IntervalChart(title: h, subtitle: h, series: [
                .init(name: h, estimates: [.init(x: 0.5, y: 0.5, lower: 0.4, upper: 0.6, label: h), .init(x: 0.6, y: 0.5, tooltip: h)], style: .errorBars),
                .init(name: h, estimates: [.init(x: 0, y: 0, lower: 0, upper: 0.1), .init(x: 1, y: 1, lower: 0.9, upper: 1)], style: .band),
            ], references: [.horizontal(0.5, label: h), .vertical(0.5, label: h), .diagonal(label: h)], xAxis: AxisSpec(h), yAxis: AxisSpec(h)),
        ]
        for chart in charts {
            for standalone in [true, false] {
                let svg = chart.svg(standalone: standalone)
                #expect(!svg.contains("<script"), "\(type(of: chart))")
                #expect(!svg.contains("\"x\""))
                #expect(!svg.contains("'quotes'"))
                #expect(svg.contains("&lt;script&gt;"))
                try expectWellFormedXML(svg)
            }
        }
    }

    @Test func tableCellsAndTooltipsAreEscaped() {
        let t = HTMLTable(caption: Self.hostile, headers: [Self.hostile], rows: [[HTMLTable.Cell(Self.hostile, classes: ["\"><x"], tooltip: Self.hostile)]])
        let html = t.html()
        #expect(!html.contains("<script"))
        #expect(!html.contains("\"><x"))
        #expect(html.components(separatedBy: "&lt;script&gt;").count - 1 == 4)
    }
}

/// Parses `text` as XML, failing the test with the parser's error when it is not well-formed.
func expectWellFormedXML(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let parser = XMLParser(data: Data(text.utf8))
    let ok = parser.parse()
    #expect(ok, "not well-formed XML: \(parser.parserError.map { String(describing: $0) } ?? "?") at line \(parser.lineNumber)",
            sourceLocation: sourceLocation)
}
