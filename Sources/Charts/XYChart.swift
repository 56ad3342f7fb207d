import Foundation

/// A data point.
public struct DataPoint: Sendable, Equatable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// How an axis maps values: linear, or logarithmic in a base (2 for batch sizes).
public enum AxisKind: Sendable, Equatable {
    case linear
    case log(base: Double)
}

/// One axis of an x–y chart: its label (with unit), value format, and optionally a fixed domain.
public struct AxisSpec: Sendable {
    public var label: String
    public var format: ValueFormat
    public var kind: AxisKind
    /// Fixed bounds (e.g. 0…1 for a rate); otherwise the data's extent, widened to round ticks.
    public var domain: (Double, Double)?
    /// Whether the automatic domain starts at zero.
    public var includeZero: Bool
    /// Tick at every data x value instead of round numbers (batch sizes 1, 2, 4, … on a log axis).
    public var ticksAtData: Bool

    public init(_ label: String, format: ValueFormat = .number, kind: AxisKind = .linear,
                domain: (Double, Double)? = nil, includeZero: Bool = false, ticksAtData: Bool = false) {
        self.label = label; self.format = format; self.kind = kind; self.domain = domain
        self.includeZero = includeZero; self.ticksAtData = ticksAtData
    }

    func scale(data: [Double], range: (Double, Double)) -> any ChartScale {
        let finite = data.filter(\.isFinite)
        switch kind {
        case .log(let base):
            let positive = finite.filter { $0 > 0 }
            let d = domain ?? (positive.min() ?? 1, positive.max() ?? base)
            let (lo, hi) = d.0 == d.1 ? (d.0 / base, d.1 * base) : d
            let scale = LogScale(domain: (lo, hi), range: range, base: base)
            return domain == nil && !ticksAtData ? scale.niced() : scale
        case .linear:
            if let domain { return LinearScale(domain: domain, range: range) }
            var lo = finite.min() ?? 0, hi = finite.max() ?? 1
            if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
            if lo == hi { (lo, hi) = lo == 0 ? (0, 1) : (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1) }
            return LinearScale(domain: (lo, hi), range: range).niced(5)
        }
    }
}

/// The frame shared by line and scatter charts: header, legend, both axes, and the two scales.
struct XYFrame {
    var plot: Rect
    var x: any ChartScale
    var y: any ChartScale
    var xTicks: [(Double, String)]
    var yTicks: [(Double, String)]

    init(width: Double, height: Double, header: Double, xAxis: AxisSpec, yAxis: AxisSpec, xs: [Double], ys: [Double],
         rightRoom: Double = 20) {
        let yProbe = yAxis.scale(data: ys, range: (1, 0))
        let yText = Chrome.tickLabels(yProbe, count: 5, format: yAxis.format).map(\.1)
        let left = 16 + 18 + Chrome.tickWidth(yText) + 10
        plot = Rect(x: left, y: header, width: max(40, width - left - rightRoom), height: max(40, height - header - 52))
        let xScale = xAxis.scale(data: xs, range: (plot.x, plot.maxX))
        let yScale = yAxis.scale(data: ys, range: (plot.maxY, plot.y))
        (x, y) = (xScale, yScale)
        if xAxis.ticksAtData {
            let unique = Array(Set(xs.filter(\.isFinite))).sorted()
            // Thin to about 12 labels so that they never collide.
            let every = max(1, Int(ceil(Double(unique.count) / 12)))
            xTicks = stride(from: 0, to: unique.count, by: every).map { (xScale(unique[$0]), xAxis.format.value(unique[$0])) }
        } else {
            xTicks = Chrome.tickLabels(xScale, count: max(2, Int(plot.width / 80)), format: xAxis.format)
        }
        yTicks = Chrome.tickLabels(yScale, count: 5, format: yAxis.format)
    }

    func draw(_ canvas: inout SVGCanvas, xAxis: AxisSpec, yAxis: AxisSpec) {
        Chrome.leftAxis(&canvas, plot: plot, ticks: yTicks, label: yAxis.label, grid: true, labelX: 22)
        Chrome.bottomAxis(&canvas, plot: plot, ticks: xTicks, label: xAxis.label, grid: false)
    }
}

/// Lines over a shared x axis (loss per epoch, latency per sample against batch size): several series,
/// markers at the data points, a legend when there is more than one series.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [DataPoint]
        public var dashed: Bool
        /// Colour index; by default the series' position.
        public var color: Int?
        public init(name: String, points: [DataPoint], dashed: Bool = false, color: Int? = nil) {
            self.name = name; self.points = points; self.dashed = dashed; self.color = color
        }
    }

    public struct Layout: Sendable {
        public var plot: Rect
        /// Each series' points in SVG units, sorted by x (non-finite values dropped).
        public var series: [[Point]]
    }

    public var title: String
    public var subtitle: String?
    public var series: [Series]
    public var xAxis: AxisSpec
    public var yAxis: AxisSpec
    public var markers: Bool
    public var width: Double
    public var height: Double

    public init(title: String, subtitle: String? = nil, series: [Series], xAxis: AxisSpec, yAxis: AxisSpec,
                markers: Bool = true, width: Double = 560, height: Double = 320) {
        self.title = title; self.subtitle = subtitle; self.series = series; self.xAxis = xAxis; self.yAxis = yAxis
        self.markers = markers; self.width = width; self.height = height
    }

    var legend: Bool { series.count > 1 }

    func frame() -> XYFrame {
        let points = series.flatMap(\.points)
        return XYFrame(width: width, height: height, header: Chrome.headerHeight(subtitle: subtitle, legend: legend),
                       xAxis: xAxis, yAxis: yAxis, xs: points.map(\.x), ys: points.map(\.y))
    }

    public func layout() -> Layout {
        let f = frame()
        return Layout(plot: f.plot, series: series.map { s in
            s.points.filter { $0.x.isFinite && $0.y.isFinite }.sorted { $0.x < $1.x }.map { Point(x: f.x($0.x), y: f.y($0.y)) }
        })
    }

    public func svg(standalone: Bool = true) -> String {
        let f = frame()
        let l = layout()
        var canvas = SVGCanvas(width: width, height: height, title: title, description: subtitle)
        let top = Chrome.header(&canvas, title: title, subtitle: subtitle)
        if legend {
            Chrome.legend(&canvas, names: series.enumerated().map { ($0.element.name, $0.element.color ?? $0.offset, $0.element.dashed) },
                          x: 16, y: top + 6)
        }
        f.draw(&canvas, xAxis: xAxis, yAxis: yAxis)
        for (i, s) in series.enumerated() {
            let color = (s.color ?? i) % Theme.seriesColors
            let points = l.series[i]
            canvas.path(points, class: "pc-s\(color)" + (s.dashed ? " pc-dash" : ""), tooltip: s.name)
            guard markers, points.count <= 60 else { continue }
            let data = s.points.filter { $0.x.isFinite && $0.y.isFinite }.sorted { $0.x < $1.x }
            for (p, d) in zip(points, data) {
                canvas.circle(p, r: 3, class: "pc-f\(color)",
                              tooltip: "\(s.name): \(xAxis.format.value(d.x)), \(yAxis.format.value(d.y))")
            }
        }
        return canvas.render(standalone: standalone)
    }
}

/// Points in the plane with a highlighted few (a ROC curve with its operating point): each series drawn
/// as a line, as markers, or both; an optional y = x reference (chance, on a ROC plot).
public struct ScatterChart: Sendable {
    public enum Style: Sendable { case line, markers, lineAndMarkers, area }

    public struct Series: Sendable {
        public var name: String
        public var points: [DataPoint]
        public var style: Style
        public var color: Int?
        public init(name: String, points: [DataPoint], style: Style = .markers, color: Int? = nil) {
            self.name = name; self.points = points; self.style = style; self.color = color
        }
    }

    /// A point to call out with a label; `primary` ones are drawn large, in the accent colour or in the
    /// colour of series `color` (when several curves each have their own point).
    public struct Highlight: Sendable {
        public var point: DataPoint
        public var label: String
        public var primary: Bool
        public var color: Int?
        public init(_ point: DataPoint, label: String, primary: Bool = true, color: Int? = nil) {
            self.point = point; self.label = label; self.primary = primary; self.color = color
        }
    }

    public struct Layout: Sendable {
        public var plot: Rect
        public var series: [[Point]]
        public var highlights: [Point]
    }

    public var title: String
    public var subtitle: String?
    public var series: [Series]
    public var highlights: [Highlight]
    public var xAxis: AxisSpec
    public var yAxis: AxisSpec
    /// Draw y = x across the plot (dashed), labelled with this text.
    public var diagonal: String?
    public var width: Double
    public var height: Double

    public init(title: String, subtitle: String? = nil, series: [Series], highlights: [Highlight] = [], xAxis: AxisSpec,
                yAxis: AxisSpec, diagonal: String? = nil, width: Double = 480, height: Double = 440) {
        self.title = title; self.subtitle = subtitle; self.series = series; self.highlights = highlights
        self.xAxis = xAxis; self.yAxis = yAxis; self.diagonal = diagonal; self.width = width; self.height = height
    }

    var legend: Bool { series.count > 1 || diagonal != nil }

    func frame() -> XYFrame {
        let points = series.flatMap(\.points) + highlights.map(\.point)
        return XYFrame(width: width, height: height, header: Chrome.headerHeight(subtitle: subtitle, legend: legend),
                       xAxis: xAxis, yAxis: yAxis, xs: points.map(\.x), ys: points.map(\.y), rightRoom: 24)
    }

    public func layout() -> Layout {
        let f = frame()
        func place(_ p: DataPoint) -> Point { Point(x: f.x(p.x), y: f.y(p.y)) }
        return Layout(plot: f.plot,
                      series: series.map { $0.points.filter { $0.x.isFinite && $0.y.isFinite }.map(place) },
                      highlights: highlights.map { place($0.point) })
    }

    public func svg(standalone: Bool = true) -> String {
        let f = frame()
        let l = layout()
        var canvas = SVGCanvas(width: width, height: height, title: title, description: subtitle)
        let top = Chrome.header(&canvas, title: title, subtitle: subtitle)
        if legend {
            var names = series.enumerated().map { ($0.element.name, $0.element.color ?? $0.offset, false) }
            if let diagonal { names.append((diagonal, Theme.seriesColors - 3, true)) }
            Chrome.legend(&canvas, names: names, x: 16, y: top + 6)
        }
        f.draw(&canvas, xAxis: xAxis, yAxis: yAxis)
        if diagonal != nil {
            let lo = max(f.x.domain.0, f.y.domain.0), hi = min(f.x.domain.1, f.y.domain.1)
            canvas.line(f.x(lo), f.y(lo), f.x(hi), f.y(hi), class: "pc-s\(Theme.seriesColors - 3) pc-dash")
        }
        for (i, s) in series.enumerated() {
            let color = (s.color ?? i) % Theme.seriesColors
            let points = l.series[i]
            if s.style == .area, let first = points.first, let last = points.last {
                let base = f.plot.maxY
                canvas.path([Point(x: first.x, y: base)] + points + [Point(x: last.x, y: base)], class: "pc-a\(color)", close: true)
            }
            if s.style != .markers { canvas.path(points, class: "pc-s\(color)", tooltip: s.name) }
            if s.style == .markers || s.style == .lineAndMarkers {
                for (p, d) in zip(points, s.points.filter { $0.x.isFinite && $0.y.isFinite }) {
                    canvas.circle(p, r: 3, class: "pc-f\(color)", tooltip: "\(xAxis.format.value(d.x)), \(yAxis.format.value(d.y))")
                }
            }
        }
        // Secondary points: label above-left where there is room, else above-right / below.
        for (h, p) in zip(highlights, l.highlights) where !h.primary {
            canvas.circle(p, r: 4, class: "pc-hi2", tooltip: h.label)
            let w = TextMetrics.width(h.label, fontSize: 11)
            let left = p.x - f.plot.x > w + 12
            let above = p.y - f.plot.y > 16
            canvas.text(h.label, x: left ? p.x - 7 : p.x + 7, y: above ? p.y - 7 : p.y + 15, class: "pc-value",
                        anchor: left ? .end : .start)
        }
        // Primary points: a two-line label ("t = 0.35" / "sens 98.2%, spec 53.4%" from "t = 0.35: sens…"),
        // set towards the middle of the plot, where a ROC curve leaves space, and moved on past any label
        // already placed.
        var placed: [Rect] = []
        for (h, p) in zip(highlights, l.highlights) where h.primary {
            let color = h.color.map { " pc-f\($0 % Theme.seriesColors)" } ?? ""
            canvas.circle(p, r: 6, class: "pc-hi" + color, tooltip: h.label)
            let lines = h.label.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let w = lines.map { TextMetrics.width($0, fontSize: 11) }.max() ?? 0
            let right = f.plot.maxX - p.x - 12 >= w || p.x - f.plot.x < f.plot.maxX - p.x
            let below = p.y < f.plot.y + f.plot.height / 2
            let x = right ? p.x + 10 : p.x - 10
            let blockHeight = Double(lines.count) * 14
            var y0 = below ? p.y + 24 : p.y - 12 - Double(lines.count - 1) * 14
            func box(_ y: Double) -> Rect { Rect(x: right ? x : x - w, y: y - 11, width: w, height: blockHeight) }
            for _ in 0..<8 {
                let b = box(y0)
                guard placed.contains(where: { $0.x < b.maxX && b.x < $0.maxX && $0.y < b.maxY && b.y < $0.maxY }) else { break }
                y0 += below ? blockHeight + 4 : -(blockHeight + 4)
            }
            placed.append(box(y0))
            for (i, line) in lines.enumerated() {
                canvas.text(line, x: x, y: y0 + Double(i) * 14, class: i == 0 ? "pc-marktext" + color : "pc-value pc-strong",
                            anchor: right ? .start : .end)
            }
        }
        return canvas.render(standalone: standalone)
    }
}
