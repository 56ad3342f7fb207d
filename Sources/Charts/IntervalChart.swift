import Foundation

/// Estimates with their 95% intervals on an x–y plot: lines in shaded bands (sensitivity against the
/// threshold) or points with error bars (a reliability diagram's observed rate per bin), and reference
/// lines: a horizontal target, a vertical chosen value, the diagonal y = x.
///
/// An interval is drawn only where a point has both bounds: a band breaks there rather than invent one.
/// Where a vertical reference crosses a band's line, a dot gives the line's value there (interpolated), so
/// that the chosen threshold reads off both curves.
public struct IntervalChart: Sendable {
    public struct Estimate: Sendable, Equatable {
        public var x: Double, y: Double
        public var lower: Double?, upper: Double?
        /// A short text beside an error bar (a bin's image count); bands draw none.
        public var label: String?
        /// The point's tooltip; by default "series: x, y [lower–upper] (label)", so that a label left out
        /// for lack of room is still there on hover.
        public var tooltip: String?
        public init(x: Double, y: Double, lower: Double? = nil, upper: Double? = nil, label: String? = nil, tooltip: String? = nil) {
            self.x = x; self.y = y; self.lower = lower; self.upper = upper; self.label = label; self.tooltip = tooltip
        }

        var finite: Bool { x.isFinite && y.isFinite }
        var interval: (Double, Double)? {
            guard let lower, let upper, lower.isFinite, upper.isFinite else { return nil }
            return (min(lower, upper), max(lower, upper))
        }
    }

    public enum Style: Sendable { case band, errorBars }

    public struct Series: Sendable {
        public var name: String
        public var estimates: [Estimate]
        public var style: Style
        public var color: Int?
        public init(name: String, estimates: [Estimate], style: Style, color: Int? = nil) {
            self.name = name; self.estimates = estimates; self.style = style; self.color = color
        }

        /// Finite estimates, by x.
        var sorted: [Estimate] { estimates.filter(\.finite).sorted { $0.x < $1.x } }
    }

    public enum Reference: Sendable {
        /// y = value across the plot (a target), labelled at its right end.
        case horizontal(Double, label: String)
        /// x = value down the plot (a chosen threshold), labelled at its foot.
        case vertical(Double, label: String)
        /// y = x (perfect calibration), named in the legend.
        case diagonal(label: String)
    }

    public struct Layout: Sendable {
        public var plot: Rect
        /// Each series' points in SVG units, by x.
        public var points: [[Point]]
        /// Each series' intervals as zero-width rectangles from the upper bound (top) to the lower, for the
        /// points that have one, clamped to the plot.
        public var intervals: [[Rect]]
        /// The x of each vertical reference and the y of each horizontal one, in SVG units.
        public var verticals: [Double]
        public var horizontals: [Double]
        /// Where each vertical reference meets each band's line (series order within reference order).
        public var crossings: [Point]
    }

    public var title: String
    public var subtitle: String?
    public var series: [Series]
    public var references: [Reference]
    public var xAxis: AxisSpec
    public var yAxis: AxisSpec
    public var width: Double
    public var height: Double

    public init(title: String, subtitle: String? = nil, series: [Series], references: [Reference] = [], xAxis: AxisSpec,
                yAxis: AxisSpec, width: Double = 520, height: Double = 420) {
        self.title = title; self.subtitle = subtitle; self.series = series; self.references = references
        self.xAxis = xAxis; self.yAxis = yAxis; self.width = width; self.height = height
    }

    var diagonal: String? {
        references.lazy.compactMap { if case .diagonal(let label) = $0 { label } else { nil } }.first
    }

    var legend: Bool { series.count > 1 || diagonal != nil }

    func frame() -> XYFrame {
        var xs: [Double] = [], ys: [Double] = []
        for e in series.flatMap(\.sorted) {
            xs.append(e.x); ys.append(e.y)
            if let (lo, hi) = e.interval { ys += [lo, hi] }
        }
        for r in references {
            switch r {
            case .horizontal(let y, _): ys.append(y)
            case .vertical(let x, _): xs.append(x)
            case .diagonal: break
            }
        }
        return XYFrame(width: width, height: height, header: Chrome.headerHeight(subtitle: subtitle, legend: legend),
                       xAxis: xAxis, yAxis: yAxis, xs: xs, ys: ys, rightRoom: 24)
    }

    /// The y of the line through `estimates` (sorted by x) at `x`, linear between neighbours; nil outside.
    static func interpolate(_ estimates: [Estimate], at x: Double) -> Double? {
        guard let first = estimates.first, let last = estimates.last, x >= first.x, x <= last.x else { return nil }
        for (a, b) in zip(estimates, estimates.dropFirst()) where x <= b.x {
            return b.x == a.x ? b.y : a.y + (x - a.x) / (b.x - a.x) * (b.y - a.y)
        }
        return last.y
    }

    /// Each vertical reference's crossings with the bands: (series index, value).
    func crossings() -> [(x: Double, series: Int, y: Double)] {
        var out: [(Double, Int, Double)] = []
        for case .vertical(let x, _) in references where x.isFinite {
            for (i, s) in series.enumerated() where s.style == .band {
                if let y = Self.interpolate(s.sorted, at: x) { out.append((x, i, y)) }
            }
        }
        return out
    }

    public func layout() -> Layout {
        let f = frame()
        func clamp(_ y: Double) -> Double { min(max(y, f.plot.y), f.plot.maxY) }
        let points = series.map { $0.sorted.map { Point(x: f.x($0.x), y: f.y($0.y)) } }
        let intervals = series.map { s in
            s.sorted.compactMap { e -> Rect? in
                guard let (lo, hi) = e.interval else { return nil }
                let top = clamp(f.y(hi)), bottom = clamp(f.y(lo))
                return Rect(x: f.x(e.x), y: min(top, bottom), width: 0, height: abs(bottom - top))
            }
        }
        var verticals: [Double] = [], horizontals: [Double] = []
        for r in references {
            switch r {
            case .horizontal(let y, _): horizontals.append(f.y(y))
            case .vertical(let x, _): verticals.append(f.x(x))
            case .diagonal: break
            }
        }
        return Layout(plot: f.plot, points: points, intervals: intervals, verticals: verticals, horizontals: horizontals,
                      crossings: crossings().map { Point(x: f.x($0.x), y: f.y($0.y)) })
    }

    public func svg(standalone: Bool = true) -> String {
        let f = frame()
        let l = layout()
        var canvas = SVGCanvas(width: width, height: height, title: title, description: subtitle)
        let top = Chrome.header(&canvas, title: title, subtitle: subtitle)
        let diagonalColor = Theme.seriesColors - 3
        if legend {
            var names = series.enumerated().map { ($0.element.name, $0.element.color ?? $0.offset, false) }
            if let diagonal { names.append((diagonal, diagonalColor, true)) }
            Chrome.legend(&canvas, names: names, x: 16, y: top + 6)
        }
        f.draw(&canvas, xAxis: xAxis, yAxis: yAxis)
        func color(_ i: Int) -> Int { (series[i].color ?? i) % Theme.seriesColors }

        // Bands first, so that every line and reference is drawn over them.
        for (i, s) in series.enumerated() where s.style == .band {
            var run: [Rect] = []
            func flush() {
                if run.count > 1 {
                    let upper = run.map { Point(x: $0.x, y: $0.y) }, lower = run.reversed().map { Point(x: $0.x, y: $0.maxY) }
                    canvas.path(upper + lower, class: "pc-a\(color(i))", close: true, tooltip: "\(s.name): 95% interval")
                }
                run = []
            }
            var k = 0
            for e in s.sorted {
                if e.interval != nil { run.append(l.intervals[i][k]); k += 1 } else { flush() }
            }
            flush()
        }

        if diagonal != nil {
            let lo = max(f.x.domain.0, f.y.domain.0), hi = min(f.x.domain.1, f.y.domain.1)
            canvas.line(f.x(lo), f.y(lo), f.x(hi), f.y(hi), class: "pc-s\(diagonalColor) pc-dash")
        }
        var h = 0, v = 0
        for r in references {
            switch r {
            case .horizontal(_, let label):
                let y = l.horizontals[h]; h += 1
                canvas.line(l.plot.x, y, l.plot.maxX, y, class: "pc-ref")
                // Above the line, or below it where the line runs along the top of the plot.
                canvas.text(label, x: l.plot.maxX - 4, y: y - l.plot.y < 16 ? y + 14 : y - 5, class: "pc-value", anchor: .end)
            case .vertical(_, let label):
                let x = l.verticals[v]; v += 1
                canvas.line(x, l.plot.y, x, l.plot.maxY, class: "pc-mark")
                let right = l.plot.maxX - x > TextMetrics.width(label, fontSize: 11) + 8
                canvas.text(label, x: right ? x + 5 : x - 5, y: l.plot.maxY - 8, class: "pc-marktext", anchor: right ? .start : .end)
            case .diagonal: break
            }
        }

        var placed: [Rect] = []
        for (i, s) in series.enumerated() {
            let c = color(i)
            let data = s.sorted
            switch s.style {
            case .band:
                canvas.path(l.points[i], class: "pc-s\(c)", tooltip: s.name)
            case .errorBars:
                var k = 0
                for (p, e) in zip(l.points[i], data) {
                    var bar: Rect?
                    if e.interval != nil {
                        let r = l.intervals[i][k]; k += 1
                        bar = r
                        canvas.line(r.x, r.y, r.x, r.maxY, class: "pc-s\(c)")
                        canvas.line(r.x - 4, r.y, r.x + 4, r.y, class: "pc-s\(c)")
                        canvas.line(r.x - 4, r.maxY, r.x + 4, r.maxY, class: "pc-s\(c)")
                    }
                    canvas.circle(p, r: 4, class: "pc-f\(c)", tooltip: e.tooltip ?? tooltip(s.name, e))
                    guard let label = e.label else { continue }
                    // Above the bar, else below it; left out (it stays in the tooltip) where both collide.
                    let w = TextMetrics.width(label, fontSize: 11)
                    let above = (bar?.y ?? p.y) - 8, below = (bar?.maxY ?? p.y) + 16
                    for y in [above, below] {
                        let box = Rect(x: p.x - w / 2, y: y - 10, width: w, height: 12)
                        guard l.plot.contains(box, slack: 2),
                              !placed.contains(where: { $0.x < box.maxX && box.x < $0.maxX && $0.y < box.maxY && box.y < $0.maxY })
                        else { continue }
                        placed.append(box)
                        canvas.text(label, x: p.x, y: y, class: "pc-value", anchor: .middle)
                        break
                    }
                }
            }
        }
        for (p, c) in zip(l.crossings, crossings()) {
            canvas.circle(p, r: 5, class: "pc-hi pc-f\(color(c.series))",
                          tooltip: "\(series[c.series].name) at \(xAxis.format.value(c.x)): \(yAxis.format.value(c.y))")
        }
        return canvas.render(standalone: standalone)
    }

    func tooltip(_ name: String, _ e: Estimate) -> String {
        let interval = e.interval.map { " [\(yAxis.format.value($0.0))–\(yAxis.format.value($0.1))]" } ?? ""
        return "\(name): \(xAxis.format.value(e.x)), \(yAxis.format.value(e.y))\(interval)" + (e.label.map { " (\($0))" } ?? "")
    }
}

extension IntervalChart: SVGChart {}
