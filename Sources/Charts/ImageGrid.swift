import Foundation

/// A grid of labelled images (sample X-rays), each given by the caller as a `data:image/…` URI so that the
/// SVG stays self-contained. Anything else (a path, an http URL) is refused and drawn as an empty frame:
/// a report must never reach the network.
public struct ImageGrid: Sendable {
    public struct Item: Sendable {
        /// `data:image/png;base64,…`
        public var dataURI: String
        public var label: String
        /// Colour of the label (class index), from the series palette.
        public var color: Int
        public init(dataURI: String, label: String, color: Int = 0) {
            self.dataURI = dataURI; self.label = label; self.color = color
        }

        /// Whether the URI is an inline image (and so is drawn).
        public var isInline: Bool {
            dataURI.hasPrefix("data:image/") && !dataURI.contains("\"") && !dataURI.contains("<")
        }
    }

    public struct Layout: Sendable {
        public var width: Double, height: Double
        /// One rectangle per item, the image's (the label is below it).
        public var cells: [Rect]
    }

    public var title: String
    public var items: [Item]
    public var columns: Int
    public var cellSize: Double
    /// Draw pixels as squares rather than smoothing them (what one sees is what the model sees).
    public var pixelated: Bool

    public init(title: String, items: [Item], columns: Int = 8, cellSize: Double = 96, pixelated: Bool = true) {
        self.title = title; self.items = items; self.columns = max(1, columns); self.cellSize = cellSize
        self.pixelated = pixelated
    }

    public func layout() -> Layout {
        let gap = 14.0, label = 18.0, top = 40.0
        let cols = max(1, min(columns, items.count))
        let rows = (items.count + columns - 1) / columns
        let cells = items.indices.map { i in
            Rect(x: 16 + Double(i % columns) * (cellSize + gap), y: top + Double(i / columns) * (cellSize + label + gap),
                 width: cellSize, height: cellSize)
        }
        return Layout(width: 32 + Double(cols) * cellSize + Double(cols - 1) * gap,
                      height: top + Double(rows) * (cellSize + label + gap) + 4, cells: cells)
    }

    public func svg(standalone: Bool = true) -> String {
        let l = layout()
        var canvas = SVGCanvas(width: l.width, height: l.height, title: title)
        Chrome.header(&canvas, title: title, subtitle: nil)
        let style = pixelated ? " style=\"image-rendering:pixelated\"" : ""
        for (item, cell) in zip(items, l.cells) {
            if item.isInline {
                canvas.raw("<image x=\"\(svgNumber(cell.x))\" y=\"\(svgNumber(cell.y))\" width=\"\(svgNumber(cell.width))\" "
                           + "height=\"\(svgNumber(cell.height))\"\(style) href=\"\(XML.escape(item.dataURI))\"><title>\(XML.escape(item.label))</title></image>")
            } else {
                canvas.rect(cell, class: "pc-frame", tooltip: "not an inline image")
            }
            canvas.text(TextMetrics.truncate(item.label, to: Int(cellSize / 6.6)), x: cell.x, y: cell.maxY + 14,
                        class: "pc-label pc-f\(item.color % Theme.seriesColors)", tooltip: item.label)
        }
        return canvas.render(standalone: standalone)
    }
}
