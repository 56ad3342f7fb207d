import Foundation
import Testing
@testable import Data
import TestSupport

struct SampleGridTests {
    /// Chunks of a PNG: (type, data), with each CRC checked against the reference CRC-32.
    private func chunks(_ png: [UInt8]) throws -> [(String, [UInt8])] {
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var result: [(String, [UInt8])] = []
        var p = 8
        let be32 = { (i: Int) in png[i..<(i + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        while p < png.count {
            let length = Int(be32(p))
            let typed = Array(png[(p + 4)..<(p + 8 + length)])
            #expect(be32(p + 8 + length) == referenceCRC32(typed))
            result.append((String(decoding: typed.prefix(4), as: UTF8.self), Array(typed.dropFirst(4))))
            p += 12 + length
        }
        return result
    }

    @Test func pngHasValidChunksAndRows() throws {
        let pixels: [UInt8] = [0, 64, 128, 192, 255, 1]
        let png = try PNGEncoder.encode(width: 3, height: 2, channels: 1, pixels: pixels)
        let parts = try chunks(png)
        #expect(parts.map(\.0) == ["IHDR", "IDAT", "IEND"])
        #expect(parts[0].1 == [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0])
        let idat = parts[1].1
        #expect(idat[0] == 0x78)  // zlib header, deflate with a 32 KiB window
        let rows = try Zlib.inflateRaw(idat.dropFirst(2).dropLast(4), expectedSize: 8)
        #expect(rows == [0, 0, 64, 128, 0, 192, 255, 1])  // filter byte 0, then the row
    }

    @Test func pngRejectsWrongPixelCount() {
        #expect(throws: DataError.self) { try PNGEncoder.encode(width: 2, height: 2, channels: 1, pixels: [1, 2, 3]) }
    }

    @Test func chooseCoversEveryClass() throws {
        let split = try uniformSplit(values: Array(repeating: 9, count: 10), labels: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        let chosen = SampleGrid.choose(from: split, count: 4, seed: 2)
        #expect(chosen.count == 4)
        #expect(Set(chosen).count == 4)
        #expect(chosen.filter { split.labels[$0] == 0 }.count == 2)
        #expect(SampleGrid.choose(from: split, count: 4, seed: 2) == chosen)
        #expect(SampleGrid.choose(from: split, count: 50).count == 10)
    }

    @Test func svgEmbedsLabelledImages() throws {
        let dataset = try MedMNISTDataset(contentsOf: fixture("tiny_savez_compressed.npz"))
        let train = try dataset.split(.train)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("samples.svg")
        try SampleGrid.write(train, indices: [0, 1, 2], classNames: dataset.task.classNames, to: url, columns: 2, title: "a < b")
        let svg = try String(contentsOf: url, encoding: .utf8)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<image ").count - 1 == 3)
        #expect(svg.contains("#0 normal"))
        #expect(svg.contains("#1 pneumonia"))
        #expect(svg.contains("a &lt; b"))
        let png = try PNGEncoder.encode(width: 4, height: 4, channels: 1, pixels: train.image(1))
        #expect(svg.contains("data:image/png;base64,\(Foundation.Data(png).base64EncodedString())"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["samples.svg"])
        #expect(throws: DataError.self) { try SampleGrid.svg(train, indices: [6], classNames: []) }
    }
}
