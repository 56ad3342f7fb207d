import Foundation

/// An HTML table with escaped cells; numeric columns are right-aligned with tabular figures (the page's
/// stylesheet styles `table.pc-table`, `td.num`, `.pass`, `.fail`, `tr.highlight`).
public struct HTMLTable: Sendable {
    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        /// Extra classes: "num", "pass", "fail", "muted".
        public var classes: [String]
        /// A tooltip (the `title` attribute), e.g. the exact value behind a rounded one.
        public var tooltip: String?
        public init(_ text: String, classes: [String] = [], tooltip: String? = nil) {
            self.text = text; self.classes = classes; self.tooltip = tooltip
        }
        public init(stringLiteral value: String) { self.init(value) }
        public static func number(_ text: String, tooltip: String? = nil) -> Cell { Cell(text, classes: ["num"], tooltip: tooltip) }
    }

    public var caption: String?
    public var headers: [String]
    /// Header indices whose column holds numbers (right-aligned header).
    public var numericColumns: Set<Int>
    public var rows: [[Cell]]
    /// Row indices drawn emphasised (the chosen operating point).
    public var highlightedRows: Set<Int>

    public init(caption: String? = nil, headers: [String], numericColumns: Set<Int> = [], rows: [[Cell]],
                highlightedRows: Set<Int> = []) {
        self.caption = caption; self.headers = headers; self.numericColumns = numericColumns; self.rows = rows
        self.highlightedRows = highlightedRows
    }

    public func html() -> String {
        var out = "<table class=\"pc-table\">\n"
        if let caption { out += "<caption>\(XML.escape(caption))</caption>\n" }
        out += "<thead><tr>"
        for (i, h) in headers.enumerated() {
            out += numericColumns.contains(i) ? "<th class=\"num\">\(XML.escape(h))</th>" : "<th>\(XML.escape(h))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for (r, row) in rows.enumerated() {
            out += highlightedRows.contains(r) ? "<tr class=\"highlight\">" : "<tr>"
            for (c, cell) in row.enumerated() {
                var classes = cell.classes
                if numericColumns.contains(c) && !classes.contains("num") { classes.insert("num", at: 0) }
                var attributes = classes.isEmpty ? "" : " class=\"\(XML.escape(classes.joined(separator: " ")))\""
                if let tip = cell.tooltip { attributes += " title=\"\(XML.escape(tip))\"" }
                out += "<td\(attributes)>\(XML.escape(cell.text))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
