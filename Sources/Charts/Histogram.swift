import Foundation

/// A distribution of values (batch-1 latencies) as counts in equal-width bins with round edges, with
/// labelled vertical markers (p50, p95).
///
/// A long tail (a few runs slowed by the OS) would squeeze the body into a few bins, so with `clipTail`
/// the axis ends at Tukey's far-out fence, Q3 + 3·IQR (widened to a bin edge), and the values beyond it are
/// counted in the last bin, marked "≥" and "+n beyond": every value is counted exactly once.
public struct Histogram: Sendable {
    /// Values in [x0, x1) — the last bin also holds x1 and, when clipped, everything above.
    public struct Bin: Sendable, Equatable {
        public var x0: Double, x1: Double, count: Int
    }

    public struct Marker: Sendable {
        public var label: String
        public var value: Double
        public init(_ label: String, value: Double) { self.label = label; self.value = value }
    }

    public struct Layout: Sendable {
        public var plot: Rect
        public var bins: [Bin]
        public var rects: [Rect]
        public var x: LinearScale
        public var y: LinearScale
        /// Values counted in the last bin though they lie beyond its upper edge.
        public var overflow: Int
    }

    public var title: String
    public var subtitle: String?
    public var values: [Double]
    /// About this many bins (the edges are round numbers, so the count varies a little); by default
    /// the Rice rule, 2·∛n, between 5 and 50.
    public var binCount: Int?
    public var xAxis: AxisSpec
    public var yLabel: String
    public var markers: [Marker]
    public var clipTail: Bool
    public var width: Double
    public var height: Double

    public init(title: String, subtitle: String? = nil, values: [Double], binCount: Int? = nil, xAxis: AxisSpec,
                yLabel: String = "Count", markers: [Marker] = [], clipTail: Bool = true,
                width: Double = 560, height: Double = 320) {
        self.title = title; self.subtitle = subtitle; self.values = values; self.binCount = binCount
        self.xAxis = xAxis; self.yLabel = yLabel; self.markers = markers; self.clipTail = clipTail
        self.width = width; self.height = height
    }

    /// The `q` quantile (linear interpolation between order statistics, numpy's default).
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return nil }
        let h = Double(sorted.count - 1) * min(max(q, 0), 1)
        let i = Int(floor(h))
        return i + 1 < sorted.count ? sorted[i] + (h - Double(i)) * (sorted[i + 1] - sorted[i]) : sorted[i]
    }

    /// Counts in bins with round edges covering [min, upper] (upper = the max, or a lower clip point);
    /// values above `upper` go to the last bin. Non-finite values are ignored.
    public static func bins(_ values: [Double], count: Int, upper: Double? = nil) -> [Bin] {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return [] }
        let top = min(upper ?? hi, hi)
        var step = Ticks.step(lo, top, count: max(count, 1))
        if step == 0 || lo == top { step = lo == 0 ? 1 : Ticks.step(0, abs(lo), count: 10) }
        // Steps below 1 are exact reciprocals (0.1 = 1/10); working in units of 1/inverse puts 0.3 in
        // [0.3, 0.4), where dividing by 0.1 would give 2.999… and the bin below, and edges print round.
        let inverse = step < 1 ? (1 / step).rounded() : 0
        func units(_ v: Double) -> Double { inverse > 0 ? v * inverse : v / step }
        func edge(_ i: Double) -> Double { inverse > 0 ? i / inverse : i * step }
        let first = floor(units(lo))
        var last = ceil(units(top))
        if last <= first { last = first + 1 }
        let n = Int(last - first)
        var bins = (0..<n).map { i in Bin(x0: edge(first + Double(i)), x1: edge(first + Double(i) + 1), count: 0) }
        for v in finite {
            let i = min(n - 1, max(0, Int(floor(units(v)) - first)))
            bins[i].count += 1
        }
        return bins
    }

    public func layout() -> Layout {
        let finite = values.filter(\.isFinite)
        var upper: Double?
        if clipTail, let q1 = Self.quantile(finite, 0.25), let q3 = Self.quantile(finite, 0.75), let hi = finite.max(),
           q3 > q1, hi > q3 + 3 * (q3 - q1) {
            upper = q3 + 3 * (q3 - q1)
        }
        let count = binCount ?? min(50, max(5, Int((2 * cbrt(Double(finite.count))).rounded())))
        let bins = Self.bins(finite, count: count, upper: upper)
        let overflow = bins.last.map { b in finite.filter { $0 > b.x1 }.count } ?? 0
        let header = Chrome.headerHeight(subtitle: subtitle, legend: false) + (markers.isEmpty ? 0 : 24)
        let maxCount = Double(bins.map(\.count).max() ?? 1)
        let yProbe = LinearScale(domain: (0, max(maxCount, 1)), range: (1, 0)).niced(5)
        let yText = Chrome.tickLabels(yProbe, count: 5, format: .integer).map(\.1)
        let left = 16 + 18 + Chrome.tickWidth(yText) + 10
        let plot = Rect(x: left, y: header, width: max(40, width - left - 20), height: max(40, height - header - 52))
        let x = LinearScale(domain: (bins.first?.x0 ?? 0, bins.last?.x1 ?? 1), range: (plot.x, plot.maxX))
        let y = LinearScale(domain: yProbe.domain, range: (plot.maxY, plot.y))
        let rects = bins.map { b in
            Rect(x: x(b.x0) + 0.5, y: y(Double(b.count)), width: max(0, x(b.x1) - x(b.x0) - 1), height: y(0) - y(Double(b.count)))
        }
        return Layout(plot: plot, bins: bins, rects: rects, x: x, y: y, overflow: overflow)
    }

    public func svg(standalone: Bool = true) -> String {
        let l = layout()
        var canvas = SVGCanvas(width: width, height: height, title: title, description: subtitle)
        Chrome.header(&canvas, title: title, subtitle: subtitle)
        let xTicks = Chrome.tickLabels(l.x, count: max(2, Int(l.plot.width / 80)), format: xAxis.format)
        Chrome.leftAxis(&canvas, plot: l.plot, ticks: Chrome.tickLabels(l.y, count: 5, format: .integer), label: yLabel,
                        grid: true, labelX: 22)
        Chrome.bottomAxis(&canvas, plot: l.plot, ticks: xTicks, label: xAxis.label, grid: false)
        for (i, (bin, rect)) in zip(l.bins, l.rects).enumerated() {
            let last = i == l.bins.count - 1 && l.overflow > 0
            let range = last ? "≥ \(xAxis.format.value(bin.x0))" : "\(xAxis.format.value(bin.x0)) – \(xAxis.format.value(bin.x1))"
            canvas.rect(rect, class: "pc-f0", tooltip: "\(range): \(bin.count)")
        }
        if l.overflow > 0, let lastRect = l.rects.last {
            canvas.text("+\(l.overflow) beyond", x: lastRect.maxX, y: max(l.plot.y + 10, lastRect.y - 6), class: "pc-value", anchor: .end)
        }
        // Marker labels sit above the plot, alternating rows where two would overlap.
        var lastLabelEnd = -Double.infinity
        var row = 0
        for m in markers where m.value.isFinite {
            let px = min(max(l.x(m.value), l.plot.x), l.plot.maxX)
            canvas.line(px, l.plot.y - 4, px, l.plot.maxY, class: "pc-mark")
            // A marker beyond the clipped axis stands at its edge, with an arrow saying so.
            let beyond = l.x(m.value) > l.plot.maxX + 0.5 ? " →" : l.x(m.value) < l.plot.x - 0.5 ? " ←" : ""
            let text = "\(m.label) \(xAxis.format.value(m.value))\(beyond)"
            let w = TextMetrics.width(text, fontSize: 11)
            let anchorEnd = px + w / 2 > width - 8
            let start = anchorEnd ? px - w : px - w / 2
            row = start < lastLabelEnd + 6 ? 1 - row : 0
            canvas.text(text, x: px, y: l.plot.y - 8 - Double(row) * 13, class: "pc-marktext", anchor: anchorEnd ? .end : .middle)
            lastLabelEnd = start + w
        }
        return canvas.render(standalone: standalone)
    }
}
