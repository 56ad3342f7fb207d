import Foundation

/// Escaping for text and attribute values in SVG and HTML. Every label, title and tooltip a chart writes
/// goes through `escape`, so data ("<script>", quotes, ampersands in layer names) can never become markup.
public enum XML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newline are not allowed in XML 1.0 at all.
            case _ where c.value < 0x20 && c != "\t" && c != "\n": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// A coordinate as SVG text: at most two decimals, no trailing zeros, never "-0", "0" for non-finite
/// values. Stable across runs and platforms, so the same data always gives the same bytes.
public func svgNumber(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 100).rounded() / 100
    return r == 0 ? "0" : Format.trimZeros(String(format: "%.2f", r))
}

/// A rectangle in SVG user units (pixels), y pointing down.
public struct Rect: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    /// Whether `r` lies inside this rectangle (with a tolerance of `slack` pixels for rounding).
    public func contains(_ r: Rect, slack: Double = 0.01) -> Bool {
        r.x >= x - slack && r.y >= y - slack && r.maxX <= maxX + slack && r.maxY <= maxY + slack
    }
    public func contains(x px: Double, y py: Double, slack: Double = 0.01) -> Bool {
        px >= x - slack && px <= maxX + slack && py >= y - slack && py <= maxY + slack
    }
}

/// A point in SVG user units.
public struct Point: Sendable, Equatable {
    public var x: Double, y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// The colours and type of every chart, as CSS custom properties with a dark variant. Charts reference
/// only classes and variables (`currentColor` for text), never literal colours, so one stylesheet makes
/// them legible on a light or a dark page, standalone or inline in the report.
public enum Theme {
    /// Number of distinct series colours (`pc-f0`…, `pc-s0`…); series beyond wrap around.
    public static let seriesColors = 8

    public static let fontFamily = #"system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif"#

    /// Light palette first, then the dark one; the series colours are the Okabe–Ito-like set that stays
    /// apart for the common colour-vision deficiencies, brightened for dark backgrounds.
    public static let css: String = {
        let light = ["#2f6fdb", "#e07b28", "#16a07a", "#8e5bd0", "#d1477a", "#6b7785", "#b8911a", "#2a9fc9"]
        let dark = ["#79aaff", "#f5a05b", "#3dd6a3", "#b794f6", "#f47aa6", "#a3adb8", "#e3c15a", "#6cc6e8"]
        func vars(_ palette: [String]) -> String {
            palette.enumerated().map { "--pc-c\($0.offset):\($0.element);" }.joined()
        }
        var css = ":root,.pc-chart{--pc-bg:#ffffff;--pc-fg:#1f2328;--pc-muted:#5b636e;--pc-grid:#e7e9ec;--pc-axis:#8c959f;"
            + "--pc-good:#1a7f37;--pc-bad:#cf222e;--pc-accent:#d6336c;" + vars(light) + "}\n"
        css += "@media (prefers-color-scheme: dark){:root,.pc-chart{--pc-bg:#161b22;--pc-fg:#e6edf3;--pc-muted:#9aa3ad;"
            + "--pc-grid:#2b313a;--pc-axis:#5d6672;--pc-good:#3fb950;--pc-bad:#ff7b72;--pc-accent:#ff6b9a;" + vars(dark) + "}}\n"
        css += ".pc-chart{color:var(--pc-fg);font-family:\(fontFamily);font-size:12px}\n"
        css += ".pc-chart text{fill:currentColor}\n"
        css += ".pc-chart .pc-bg{fill:var(--pc-bg)}\n"
        css += ".pc-chart .pc-title{font-size:15px;font-weight:600}\n"
        css += ".pc-chart .pc-sub,.pc-chart .pc-tick,.pc-chart .pc-note{fill:var(--pc-muted)}\n"
        css += ".pc-chart .pc-tick{font-size:11px;font-variant-numeric:tabular-nums}\n"
        css += ".pc-chart .pc-label{font-size:12px;font-weight:500}\n"
        css += ".pc-chart .pc-value{font-size:11px;fill:var(--pc-muted);font-variant-numeric:tabular-nums}\n"
        css += ".pc-chart .pc-grid{stroke:var(--pc-grid);stroke-width:1;fill:none}\n"
        css += ".pc-chart .pc-axis{stroke:var(--pc-axis);stroke-width:1;fill:none}\n"
        css += ".pc-chart .pc-ref{stroke:var(--pc-axis);stroke-width:1;stroke-dasharray:4 4;fill:none}\n"
        css += ".pc-chart .pc-mark{stroke:var(--pc-accent);stroke-width:1.5;stroke-dasharray:5 3;fill:none}\n"
        css += ".pc-chart .pc-marktext{fill:var(--pc-accent);font-size:11px;font-weight:600}\n"
        css += ".pc-chart .pc-hi{fill:var(--pc-accent);stroke:var(--pc-bg);stroke-width:2}\n"
        css += ".pc-chart .pc-hi2{fill:var(--pc-bg);stroke:var(--pc-fg);stroke-width:1.5}\n"
        css += ".pc-chart .pc-dash{stroke-dasharray:6 4}\n"
        css += ".pc-chart .pc-strong{fill:currentColor;font-weight:600}\n"
        // A halo in the background colour keeps labels legible where they cross lines and areas.
        css += ".pc-chart .pc-value,.pc-chart .pc-marktext,.pc-chart .pc-halo{paint-order:stroke;stroke:var(--pc-bg);stroke-width:3px;stroke-linejoin:round}\n"
        css += ".pc-chart .pc-frame{fill:none;stroke:var(--pc-grid)}\n"
        for i in 0..<seriesColors {
            css += ".pc-chart .pc-f\(i){fill:var(--pc-c\(i))}"
            css += ".pc-chart .pc-s\(i){stroke:var(--pc-c\(i));stroke-width:2;fill:none;stroke-linejoin:round;stroke-linecap:round}"
            css += ".pc-chart .pc-a\(i){fill:var(--pc-c\(i));fill-opacity:.12;stroke:none}\n"
        }
        return css
    }()
}

/// A text anchor (`text-anchor`).
public enum TextAnchor: String, Sendable { case start, middle, end }

/// An SVG document under construction: primitives append escaped elements in order; `render` wraps them
/// in the root element with `role="img"`, a `viewBox`, a `<title>` and (standalone) the theme stylesheet.
public struct SVGCanvas: Sendable {
    public let width: Double
    public let height: Double
    public let title: String
    public var description: String?
    public private(set) var elements: [String] = []

    public init(width: Double, height: Double, title: String, description: String? = nil) {
        self.width = width; self.height = height; self.title = title; self.description = description
    }

    /// Appends markup as is. Callers escape what they interpolate.
    public mutating func raw(_ markup: String) { elements.append(markup) }

    public mutating func rect(_ r: Rect, class cls: String, rx: Double = 0, tooltip: String? = nil) {
        let corner = rx > 0 ? " rx=\"\(svgNumber(rx))\"" : ""
        let open = "<rect class=\"\(cls)\" x=\"\(svgNumber(r.x))\" y=\"\(svgNumber(r.y))\" "
            + "width=\"\(svgNumber(max(0, r.width)))\" height=\"\(svgNumber(max(0, r.height)))\"\(corner)"
        elements.append(tooltip.map { open + "><title>\(XML.escape($0))</title></rect>" } ?? open + "/>")
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, class cls: String) {
        elements.append("<line class=\"\(cls)\" x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" "
                        + "x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\"/>")
    }

    /// A polyline through `points` (a `path`, so that it can also be filled as an area).
    public mutating func path(_ points: [Point], class cls: String, close: Bool = false, tooltip: String? = nil) {
        guard let first = points.first else { return }
        var d = "M\(svgNumber(first.x)),\(svgNumber(first.y))"
        for p in points.dropFirst() { d += "L\(svgNumber(p.x)),\(svgNumber(p.y))" }
        if close { d += "Z" }
        let open = "<path class=\"\(cls)\" d=\"\(d)\""
        elements.append(tooltip.map { open + "><title>\(XML.escape($0))</title></path>" } ?? open + "/>")
    }

    public mutating func circle(_ c: Point, r: Double, class cls: String, tooltip: String? = nil) {
        let open = "<circle class=\"\(cls)\" cx=\"\(svgNumber(c.x))\" cy=\"\(svgNumber(c.y))\" r=\"\(svgNumber(r))\""
        elements.append(tooltip.map { open + "><title>\(XML.escape($0))</title></circle>" } ?? open + "/>")
    }

    /// Text at (x, y) (the baseline, or the middle with `middle: true`), rotated by `rotate` degrees about
    /// that point. A `tooltip` gives the full text where the visible one is shortened.
    public mutating func text(_ s: String, x: Double, y: Double, class cls: String, anchor: TextAnchor = .start,
                              middle: Bool = false, rotate: Double? = nil, tooltip: String? = nil) {
        var attributes = "class=\"\(cls)\" x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if middle { attributes += " dominant-baseline=\"central\"" }
        if let rotate { attributes += " transform=\"rotate(\(svgNumber(rotate)) \(svgNumber(x)) \(svgNumber(y)))\"" }
        let tip = tooltip.map { "<title>\(XML.escape($0))</title>" } ?? ""
        elements.append("<text \(attributes)>\(tip)\(XML.escape(s))</text>")
    }

    /// The document. `standalone` adds the XML namespace's stylesheet (`Theme.css`) so the file renders on
    /// its own; inline in a page that already carries `Theme.css`, it is left out.
    public func render(standalone: Bool = true) -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pc-chart\" role=\"img\" "
            + "viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\">\n"
        out += "<title>\(XML.escape(title))</title>\n"
        if let description { out += "<desc>\(XML.escape(description))</desc>\n" }
        if standalone { out += "<style>\n\(Theme.css)</style>\n" }
        out += "<rect class=\"pc-bg\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\"/>\n"
        for e in elements { out += e + "\n" }
        return out + "</svg>\n"
    }
}

/// Approximate text widths for layout (no font metrics without a renderer): an average advance of
/// 0.6 em, generous for digits and lower case in the sans-serif fonts the theme names.
public enum TextMetrics {
    public static func width(_ s: String, fontSize: Double = 12) -> Double { Double(s.count) * fontSize * 0.6 }

    /// `s` cut to at most `maxCharacters`, with an ellipsis where it was cut.
    public static func truncate(_ s: String, to maxCharacters: Int) -> String {
        s.count <= maxCharacters ? s : String(s.prefix(max(1, maxCharacters - 1))) + "…"
    }
}

/// Space around the plot area for the title, axes and legend.
public struct Margins: Sendable, Equatable {
    public var top: Double, right: Double, bottom: Double, left: Double
    public init(top: Double, right: Double, bottom: Double, left: Double) {
        self.top = top; self.right = right; self.bottom = bottom; self.left = left
    }
}

/// Shared pieces: title block, legend, axes with gridlines.
enum Chrome {
    static let titleBlock: Double = 30
    static let subtitleBlock: Double = 18
    static let legendBlock: Double = 22

    /// Height above the plot used by the title, subtitle and legend.
    static func headerHeight(subtitle: String?, legend: Bool) -> Double {
        12 + titleBlock - 8 + (subtitle == nil ? 0 : subtitleBlock) + (legend ? legendBlock : 0) + 10
    }

    /// Draws the title and subtitle at the top left; returns the y below them.
    @discardableResult
    static func header(_ canvas: inout SVGCanvas, title: String, subtitle: String?, x: Double = 16) -> Double {
        canvas.text(title, x: x, y: 26, class: "pc-title")
        var y = 26.0
        if let subtitle { y += subtitleBlock; canvas.text(subtitle, x: x, y: y, class: "pc-sub") }
        return y + 8
    }

    /// A legend row of colour swatches and names starting at (x, y); series i takes colour i.
    static func legend(_ canvas: inout SVGCanvas, names: [(String, Int, Bool)], x: Double, y: Double) {
        var cx = x
        for (name, color, dashed) in names {
            canvas.line(cx, y, cx + 18, y, class: "pc-s\(color % Theme.seriesColors)" + (dashed ? " pc-dash" : ""))
            canvas.text(name, x: cx + 24, y: y, class: "pc-label", middle: true)
            cx += 24 + TextMetrics.width(name) + 18
        }
    }

    /// A legend row of filled squares (for bars).
    static func swatchLegend(_ canvas: inout SVGCanvas, names: [String], x: Double, y: Double) {
        var cx = x
        for (i, name) in names.enumerated() {
            canvas.rect(Rect(x: cx, y: y - 5, width: 10, height: 10), class: "pc-f\(i % Theme.seriesColors)", rx: 2)
            canvas.text(name, x: cx + 15, y: y, class: "pc-label", middle: true)
            cx += 15 + TextMetrics.width(name) + 18
        }
    }

    /// Ticks, tick labels and gridlines of a horizontal axis under `plot`, and its label.
    static func bottomAxis(_ canvas: inout SVGCanvas, plot: Rect, ticks: [(Double, String)], label: String?, grid: Bool) {
        for (x, text) in ticks {
            if grid { canvas.line(x, plot.y, x, plot.maxY, class: "pc-grid") }
            canvas.line(x, plot.maxY, x, plot.maxY + 5, class: "pc-axis")
            canvas.text(text, x: x, y: plot.maxY + 18, class: "pc-tick", anchor: .middle)
        }
        canvas.line(plot.x, plot.maxY, plot.maxX, plot.maxY, class: "pc-axis")
        if let label { canvas.text(label, x: plot.x + plot.width / 2, y: plot.maxY + 38, class: "pc-label", anchor: .middle) }
    }

    /// Ticks, tick labels and gridlines of a vertical axis left of `plot`, and its label (rotated).
    static func leftAxis(_ canvas: inout SVGCanvas, plot: Rect, ticks: [(Double, String)], label: String?, grid: Bool,
                         labelX: Double) {
        for (y, text) in ticks {
            if grid { canvas.line(plot.x, y, plot.maxX, y, class: "pc-grid") }
            canvas.text(text, x: plot.x - 8, y: y, class: "pc-tick", anchor: .end, middle: true)
        }
        canvas.line(plot.x, plot.y, plot.x, plot.maxY, class: "pc-axis")
        if let label {
            canvas.text(label, x: labelX, y: plot.y + plot.height / 2, class: "pc-label", anchor: .middle, middle: true, rotate: -90)
        }
    }

    /// Tick values of `scale` with their labels, formatted to the tick step.
    static func tickLabels(_ scale: any ChartScale, count: Int, format: ValueFormat) -> [(Double, String)] {
        var values = scale.ticks(count)
        if format == .integer { values = values.filter { $0 == $0.rounded() } }
        let step = scale.tickStep(count)
        // Log ticks are unevenly spaced: each is written to its own precision (0.2, 5, 100).
        func own(_ x: Double) -> Double { x == 0 ? 1 : pow(10, floor(log10(abs(x)) + 1e-9)) }
        return values.map { (scale($0), format.tick($0, step: step > 0 ? step : own($0))) }
    }

    /// The widest tick label's width, for the left margin.
    static func tickWidth(_ labels: [String]) -> Double {
        labels.map { TextMetrics.width($0, fontSize: 11) }.max() ?? 0
    }
}

/// A chart that renders to SVG: standalone (with the theme stylesheet) or for inlining in a page that
/// carries `Theme.css` already.
public protocol SVGChart: Sendable {
    var title: String { get }
    func svg(standalone: Bool) -> String
}

extension BarChart: SVGChart {}
extension LineChart: SVGChart {}
extension ScatterChart: SVGChart {}
extension Histogram: SVGChart {}
extension ImageGrid: SVGChart {}
