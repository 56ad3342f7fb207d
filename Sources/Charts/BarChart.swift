import Foundation

/// Bars, one group per category and one bar per series in each group: vertical (few categories, e.g.
/// class counts per split) or horizontal (many or long-named categories, e.g. MACs per layer, time per op
/// type). A horizontal chart grows in height with the number of categories, so 100 layers stay legible.
public struct BarChart: Sendable {
    public enum Orientation: Sendable { case vertical, horizontal }

    public struct Series: Sendable {
        public var name: String
        /// One value per category (`nil`: no bar, e.g. "not measured").
        public var values: [Double?]
        public init(name: String, values: [Double?]) { self.name = name; self.values = values }
    }

    /// One laid-out bar, in SVG units.
    public struct Bar: Sendable, Equatable {
        public var rect: Rect
        public var category: Int
        public var series: Int
        public var value: Double
    }

    public struct Layout: Sendable {
        public var width: Double, height: Double
        public var plot: Rect
        /// Maps values to the value axis (x when horizontal, y when vertical).
        public var valueScale: any ChartScale
        /// Where bars start: 0 on a linear axis, 1 on a log axis (a ratio of 1× is "no change").
        public var baseline: Double
        public var bars: [Bar]
        /// Centre of each category's band on the category axis.
        public var bandCenters: [Double]
    }

    public var title: String
    public var subtitle: String?
    public var categories: [String]
    public var series: [Series]
    public var orientation: Orientation
    /// The value axis label, with its unit: "Time (% of total)".
    public var valueLabel: String
    public var categoryLabel: String?
    public var format: ValueFormat
    /// Write each bar's value at its end.
    public var showValues: Bool
    public var width: Double
    /// Height of a vertical chart; a horizontal one is sized by its rows.
    public var height: Double
    /// Row height per series in a horizontal chart.
    public var barThickness: Double
    /// Longest category name shown in full on a horizontal chart (longer ones are cut, full in a tooltip).
    public var maxLabelCharacters: Int
    /// A linear value axis, or a log one for ratios that span decades (speed-ups of 1.1× and 45×); on a
    /// log axis bars grow from 1, and values ≤ 0 draw no bar.
    public var valueAxis: AxisKind

    public init(title: String, subtitle: String? = nil, categories: [String], series: [Series],
                orientation: Orientation = .vertical, valueLabel: String, categoryLabel: String? = nil,
                format: ValueFormat = .number, showValues: Bool = true, width: Double = 560, height: Double = 320,
                barThickness: Double = 14, maxLabelCharacters: Int = 28, valueAxis: AxisKind = .linear) {
        self.title = title; self.subtitle = subtitle; self.categories = categories; self.series = series
        self.orientation = orientation; self.valueLabel = valueLabel; self.categoryLabel = categoryLabel
        self.format = format; self.showValues = showValues; self.width = width; self.height = height
        self.barThickness = barThickness; self.maxLabelCharacters = maxLabelCharacters; self.valueAxis = valueAxis
    }

    var hasLegend: Bool { series.count > 1 }

    var baseline: Double { valueAxis == .linear ? 0 : 1 }

    func drawable(_ v: Double?) -> Double? {
        guard let v, v.isFinite else { return nil }
        return valueAxis == .linear || v > 0 ? v : nil
    }

    /// The value scale over `range`, its domain including the baseline and widened to round ticks.
    func valueScale(range: (Double, Double)) -> any ChartScale {
        let values = series.flatMap { $0.values.compactMap(drawable) }
        let lo = min(baseline, values.min() ?? baseline), hi = max(baseline, values.max() ?? baseline)
        switch valueAxis {
        case .linear:
            return LinearScale(domain: lo == hi ? (0, 1) : (lo, hi), range: range).niced(5)
        case .log(let base):
            return LogScale(domain: lo == hi ? (1, base) : (lo, hi), range: range, base: base).niced()
        }
    }

    public func layout() -> Layout {
        let header = Chrome.headerHeight(subtitle: subtitle, legend: hasLegend)
        let n = max(categories.count, 1), k = max(series.count, 1)
        switch orientation {
        case .horizontal:
            let shown = categories.map { TextMetrics.truncate($0, to: maxLabelCharacters) }
            let left = 16 + min(Chrome.tickWidth(shown) * 1.05, width * 0.45) + 10
            let valueRoom = showValues ? 58.0 : 16
            let band = Double(k) * barThickness + 8
            let plot = Rect(x: left, y: header, width: max(40, width - left - valueRoom), height: Double(n) * band)
            let scale = valueScale(range: (plot.x, plot.maxX))
            var bars: [Bar] = []
            var centers: [Double] = []
            for c in categories.indices {
                let top = plot.y + Double(c) * band + 4
                centers.append(top + Double(k) * barThickness / 2)
                for (s, series) in series.enumerated() {
                    guard c < series.values.count, let v = drawable(series.values[c]) else { continue }
                    let (a, b) = (scale(baseline), scale(v))
                    bars.append(Bar(rect: Rect(x: min(a, b), y: top + Double(s) * barThickness, width: abs(b - a),
                                               height: barThickness - 2), category: c, series: s, value: v))
                }
            }
            return Layout(width: width, height: plot.maxY + 50, plot: plot, valueScale: scale, baseline: baseline, bars: bars,
                          bandCenters: centers)
        case .vertical:
            let tickText = Chrome.tickLabels(valueScale(range: (1, 0)), count: 5, format: format).map(\.1)
            let left = 16 + 18 + Chrome.tickWidth(tickText) + 10
            let bottom = categoryLabel == nil ? 34.0 : 54
            let plot = Rect(x: left, y: header, width: max(40, width - left - 16), height: max(40, height - header - bottom))
            let scale = valueScale(range: (plot.maxY, plot.y))
            let band = plot.width / Double(n)
            let inner = band * 0.72
            let thickness = inner / Double(k)
            var bars: [Bar] = []
            var centers: [Double] = []
            for c in categories.indices {
                let left = plot.x + Double(c) * band + (band - inner) / 2
                centers.append(plot.x + (Double(c) + 0.5) * band)
                for (s, series) in series.enumerated() {
                    guard c < series.values.count, let v = drawable(series.values[c]) else { continue }
                    let (a, b) = (scale(baseline), scale(v))
                    bars.append(Bar(rect: Rect(x: left + Double(s) * thickness + 1, y: min(a, b), width: thickness - 2,
                                               height: abs(b - a)), category: c, series: s, value: v))
                }
            }
            return Layout(width: width, height: height, plot: plot, valueScale: scale, baseline: baseline, bars: bars,
                          bandCenters: centers)
        }
    }

    public func svg(standalone: Bool = true) -> String {
        let l = layout()
        var canvas = SVGCanvas(width: l.width, height: l.height, title: title, description: subtitle)
        let top = Chrome.header(&canvas, title: title, subtitle: subtitle)
        if hasLegend { Chrome.swatchLegend(&canvas, names: series.map(\.name), x: 16, y: top + 6) }
        let ticks = Chrome.tickLabels(l.valueScale, count: 5, format: format)
        switch orientation {
        case .horizontal:
            Chrome.bottomAxis(&canvas, plot: l.plot, ticks: ticks, label: valueLabel, grid: true)
            for (c, name) in categories.enumerated() where c < l.bandCenters.count {
                let shown = TextMetrics.truncate(name, to: maxLabelCharacters)
                canvas.text(shown, x: l.plot.x - 8, y: l.bandCenters[c], class: "pc-tick", anchor: .end, middle: true,
                            tooltip: shown == name ? nil : name)
            }
            canvas.line(l.valueScale(l.baseline), l.plot.y, l.valueScale(l.baseline), l.plot.maxY, class: "pc-axis")
        case .vertical:
            Chrome.leftAxis(&canvas, plot: l.plot, ticks: ticks, label: valueLabel, grid: true, labelX: 22)
            canvas.line(l.plot.x, l.valueScale(l.baseline), l.plot.maxX, l.valueScale(l.baseline), class: "pc-axis")
            for (c, name) in categories.enumerated() where c < l.bandCenters.count {
                canvas.text(name, x: l.bandCenters[c], y: l.plot.maxY + 18, class: "pc-label", anchor: .middle)
            }
            if let categoryLabel {
                canvas.text(categoryLabel, x: l.plot.x + l.plot.width / 2, y: l.plot.maxY + 40, class: "pc-label", anchor: .middle)
            }
        }
        for bar in l.bars {
            let name = categories[bar.category]
            let tip = series.count > 1 ? "\(name), \(series[bar.series].name): \(format.value(bar.value))" : "\(name): \(format.value(bar.value))"
            canvas.rect(bar.rect, class: "pc-f\(bar.series % Theme.seriesColors)", rx: 1.5, tooltip: tip)
            guard showValues else { continue }
            let text = format.value(bar.value)
            switch orientation {
            case .horizontal:
                let ahead = bar.value >= l.baseline
                let x = ahead ? bar.rect.maxX + 5 : bar.rect.x - 5
                canvas.text(text, x: x, y: bar.rect.y + bar.rect.height / 2, class: "pc-value", anchor: ahead ? .start : .end, middle: true)
            case .vertical:
                // Above a positive bar, below a negative one; skipped where the bar is too narrow for it.
                guard TextMetrics.width(text, fontSize: 11) <= bar.rect.width + 14 else { continue }
                let y = bar.value >= l.baseline ? bar.rect.y - 5 : bar.rect.maxY + 13
                canvas.text(text, x: bar.rect.x + bar.rect.width / 2, y: y, class: "pc-value", anchor: .middle)
            }
        }
        return canvas.render(standalone: standalone)
    }
}
