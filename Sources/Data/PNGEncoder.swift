/// A minimal PNG writer for 8-bit grayscale or RGB images, enough to embed samples in SVG.
///
/// Every row uses filter type 0 (none) and the whole image is one IDAT chunk compressed by zlib; for
/// images of a few thousand pixels neither choice matters, and both keep the encoder obviously correct.
public enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `pixels` is `height × width × channels` bytes, row-major, `channels` 1 (gray) or 3 (RGB).
    public static func encode(width: Int, height: Int, channels: Int, pixels: some Collection<UInt8>) throws -> [UInt8] {
        guard width > 0, height > 0, width < 1 << 31, height < 1 << 31, channels == 1 || channels == 3,
              pixels.count == width * height * channels else {
            throw DataError(.invalidArgument, file: "png",
                            "need width × height × channels bytes with 1 or 3 channels, got \(pixels.count) for \(width)×\(height)×\(channels)")
        }
        var header: [UInt8] = []
        header.appendBE(UInt32(width))
        header.appendBE(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // bit depth, colour type, compression, filter, interlace

        let rowBytes = width * channels
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (rowBytes + 1))
        var row = pixels.makeIterator()
        for _ in 0..<height {
            raw.append(0)
            for _ in 0..<rowBytes { raw.append(row.next()!) }
        }
        var png = signature
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", Zlib.compress(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Length, type, data, and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        png.appendBE(UInt32(data.count))
        let typed = Array(type.utf8) + data
        png += typed
        png.appendBE(Zlib.crc32(typed[...]))
    }
}
