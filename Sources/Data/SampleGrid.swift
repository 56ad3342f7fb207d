import GraphCore
import Foundation

/// An SVG contact sheet of labelled sample images, for looking at the data before training on it. Each
/// image is an inline PNG (data URI), so the file is self-contained and opens in any browser.
public enum SampleGrid {
    /// `count` indices drawn round-robin over the classes (random within each class, from `seed`), so a
    /// small grid shows every class even when the split is imbalanced.
    public static func choose(from data: ImageSplit, count: Int, seed: UInt64 = 0) -> [Int] {
        var rng = SeededRandom(seed: seed)
        var members = [[Int]](repeating: [], count: data.classCount)
        for (i, label) in data.labels.enumerated() { members[label].append(i) }
        for c in members.indices {
            for i in stride(from: members[c].count - 1, to: 0, by: -1) {
                members[c].swapAt(i, Int(rng.next(upperBound: UInt64(i + 1))))
            }
        }
        var chosen: [Int] = []
        var depth = 0
        while chosen.count < min(count, data.count) {
            for c in members.indices where depth < members[c].count && chosen.count < count {
                chosen.append(members[c][depth])
            }
            depth += 1
        }
        return chosen
    }

    /// The SVG text: images in rows of `columns`, each drawn `cellSize` pixels wide (pixelated, not
    /// smoothed, so what one sees is what the model sees) with "#index class" under it.
    public static func svg(_ data: ImageSplit, indices: [Int], classNames: [String], columns: Int = 8,
                           cellSize: Int = 96, title: String? = nil) throws -> String {
        guard columns > 0, cellSize > 0 else {
            throw DataError(.invalidArgument, file: "sample grid", "columns and cell size must be positive")
        }
        let labelHeight = 18, gap = 16, titleHeight = title == nil ? 0 : 28
        let rows = (indices.count + columns - 1) / columns
        let cellWidth = cellSize + gap
        let imageHeight = cellSize * data.height / max(data.width, 1)
        let width = gap + max(1, min(columns, indices.count)) * cellWidth
        let height = titleHeight + gap + rows * (imageHeight + labelHeight + gap)
        let palette = ["#1b7837", "#b2182b", "#2166ac", "#762a83", "#e08214"]
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>

        """
        if let title {
            svg += "<text x=\"\(gap)\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        }
        for (k, index) in indices.enumerated() {
            guard (0..<data.count).contains(index) else {
                throw DataError(.invalidArgument, file: "sample grid", "index \(index) is outside 0..<\(data.count)")
            }
            let x = gap + (k % columns) * cellWidth
            let y = titleHeight + gap + (k / columns) * (imageHeight + labelHeight + gap)
            let png = try PNGEncoder.encode(width: data.width, height: data.height, channels: data.channels, pixels: data.image(index))
            let label = data.labels[index]
            let name = label < classNames.count ? classNames[label] : "class \(label)"
            svg += "<image x=\"\(x)\" y=\"\(y)\" width=\"\(cellSize)\" height=\"\(imageHeight)\" "
                + "style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(Foundation.Data(png).base64EncodedString())\"/>\n"
            svg += "<text x=\"\(x)\" y=\"\(y + imageHeight + 14)\" fill=\"\(palette[label % palette.count])\">"
                + "#\(index) \(escape(name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Writes `svg(...)` to `url` through a temporary file and a rename.
    public static func write(_ data: ImageSplit, indices: [Int], classNames: [String], to url: URL,
                             columns: Int = 8, cellSize: Int = 96, title: String? = nil) throws {
        let text = try svg(data, indices: indices, classNames: classNames, columns: columns, cellSize: cellSize, title: title)
        try FileIO.writeAtomically(Array(text.utf8), to: url)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
