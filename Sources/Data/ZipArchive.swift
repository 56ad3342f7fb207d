import Foundation

/// A read-only zip archive held in memory, located through its central directory (the authoritative
/// index: local headers may carry zero sizes when the writer streamed, as Python's `zipfile` does for
/// `np.savez`). Supports stored and deflated members and the zip64 extensions numpy uses
/// (`force_zip64=True`); never traps on a damaged file, whose every offset is checked before use.
public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 stored, 8 deflated.
        public let method: UInt16
        public let flags: UInt16
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    public let file: String
    public let entries: [Entry]
    private let bytes: [UInt8]

    /// Deflate cannot expand data by more than about 1032:1; a member claiming more is damaged, and
    /// believing it would mean allocating whatever size a corrupt header names.
    static let maxDeflateRatio = 1032

    public init(contentsOf url: URL) throws {
        try self.init(bytes: FileIO.readBytes(url), file: url.path)
    }

    public init(bytes: [UInt8], file: String) throws {
        self.file = file
        self.bytes = bytes
        entries = try Self.readCentralDirectory(ByteReader(bytes, file: file))
    }

    public func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// The uncompressed bytes of `entry`, checked against its CRC-32.
    public func extract(_ entry: Entry) throws -> [UInt8] {
        let reader = ByteReader(bytes, file: file, item: entry.name)
        func fail(_ kind: DataError.Kind, _ message: String) -> DataError {
            DataError(kind, file: file, item: entry.name, message)
        }
        guard try reader.u32(entry.localHeaderOffset, "the local header") == 0x0403_4b50 else {
            throw fail(.corrupt, "no local file header at offset \(entry.localHeaderOffset)")
        }
        let nameLength = Int(try reader.u16(entry.localHeaderOffset + 26, "the local header"))
        let extraLength = Int(try reader.u16(entry.localHeaderOffset + 28, "the local header"))
        let dataStart = entry.localHeaderOffset + 30 + nameLength + extraLength
        let compressed = try reader.slice(dataStart, entry.compressedSize, "the member's compressed data")

        let data: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail(.corrupt, "stored member with compressed size \(entry.compressedSize) ≠ size \(entry.uncompressedSize)")
            }
            data = Array(compressed)
        case 8:
            let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Self.maxDeflateRatio)
            guard overflow || entry.uncompressedSize <= bound + 64 else {
                throw fail(.corrupt, "declared size \(entry.uncompressedSize) is impossible for \(entry.compressedSize) deflated bytes")
            }
            guard UInt64(entry.uncompressedSize) <= ProcessInfo.processInfo.physicalMemory else {
                throw fail(.corrupt, "declared size \(entry.uncompressedSize) exceeds this machine's memory")
            }
            do {
                data = try Zlib.inflateRaw(compressed, expectedSize: entry.uncompressedSize)
            } catch {
                throw fail(error.kind == .truncated ? .truncated : .corrupt, error.message)
            }
        default:
            throw fail(.unsupported, "compression method \(entry.method) (only stored and deflated)")
        }
        let crc = Zlib.crc32(data[...])
        guard crc == entry.crc32 else {
            throw fail(.corrupt, String(format: "CRC-32 is %08x, the directory says %08x", crc, entry.crc32))
        }
        return data
    }

    // MARK: Central directory

    private static func readCentralDirectory(_ r: ByteReader) throws -> [Entry] {
        let end = try findEndOfCentralDirectory(r)
        var count = Int(try r.u16(end + 10, "the end-of-central-directory record"))
        var size = Int(try r.u32(end + 12, "the end-of-central-directory record"))
        var offset = Int(try r.u32(end + 16, "the end-of-central-directory record"))
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            (count, size, offset) = try readZip64End(r, before: end)
        }
        try r.require(offset, size, "the central directory (\(count) entries)")
        guard count <= size / 46 else {
            throw DataError(.corrupt, file: r.file, "central directory of \(size) bytes cannot hold \(count) entries")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var p = offset
        for index in 0..<count {
            let what = "central directory entry \(index)"
            guard try r.u32(p, what) == 0x0201_4b50, p + 46 <= offset + size else {
                throw DataError(.corrupt, file: r.file, "\(what) is damaged (bad signature at offset \(p))")
            }
            let flags = try r.u16(p + 8, what), method = try r.u16(p + 10, what)
            let crc = try r.u32(p + 16, what)
            var compressed = UInt64(try r.u32(p + 20, what)), uncompressed = UInt64(try r.u32(p + 24, what))
            let nameLength = Int(try r.u16(p + 28, what)), extraLength = Int(try r.u16(p + 30, what))
            let commentLength = Int(try r.u16(p + 32, what))
            var localOffset = UInt64(try r.u32(p + 42, what))
            let name = String(decoding: try r.slice(p + 46, nameLength, what), as: UTF8.self)
            let extra = try r.slice(p + 46 + nameLength, extraLength, what)
            try applyZip64Extra(Array(extra), &uncompressed, &compressed, &localOffset, file: r.file, name: name)
            guard flags & 1 == 0 else {
                throw DataError(.unsupported, file: r.file, item: name, "encrypted zip member")
            }
            guard let c = Int(exactly: compressed), let u = Int(exactly: uncompressed), let o = Int(exactly: localOffset) else {
                throw DataError(.corrupt, file: r.file, item: name, "sizes or offset beyond what this machine can address")
            }
            entries.append(Entry(name: name, method: method, flags: flags, crc32: crc, compressedSize: c,
                                 uncompressedSize: u, localHeaderOffset: o))
            p += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    /// The end-of-central-directory record is the last 22 bytes unless the archive has a comment (up to
    /// 65535 bytes), so it is searched backwards over that window.
    private static func findEndOfCentralDirectory(_ r: ByteReader) throws -> Int {
        let last = r.bytes.count - 22
        guard last >= 0 else {
            throw DataError(.truncated, file: r.file, "\(r.bytes.count) bytes is too short for a zip archive")
        }
        for p in stride(from: last, through: max(0, last - 65535), by: -1)
        where r.bytes[p] == 0x50 && r.bytes[p + 1] == 0x4b && r.bytes[p + 2] == 5 && r.bytes[p + 3] == 6 {
            return p
        }
        let looksLikeZip = r.bytes.starts(with: [0x50, 0x4b, 3, 4])
        throw DataError(looksLikeZip ? .truncated : .format, file: r.file,
                        looksLikeZip ? "zip archive has no end-of-central-directory record (cut short?)"
                                     : "not a zip archive (no end-of-central-directory record)")
    }

    private static func readZip64End(_ r: ByteReader, before end: Int) throws -> (Int, Int, Int) {
        let locator = end - 20
        guard locator >= 0, try r.u32(locator, "the zip64 locator") == 0x0706_4b50 else {
            throw DataError(.corrupt, file: r.file, "zip64 sizes without a zip64 end-of-central-directory locator")
        }
        guard let record = Int(exactly: try r.u64(locator + 8, "the zip64 locator")),
              try r.u32(record, "the zip64 end record") == 0x0606_4b50 else {
            throw DataError(.corrupt, file: r.file, "zip64 end-of-central-directory record missing")
        }
        let count = try r.u64(record + 32, "the zip64 end record")
        let size = try r.u64(record + 40, "the zip64 end record")
        let offset = try r.u64(record + 48, "the zip64 end record")
        guard let c = Int(exactly: count), let s = Int(exactly: size), let o = Int(exactly: offset) else {
            throw DataError(.corrupt, file: r.file, "zip64 central directory beyond what this machine can address")
        }
        return (c, s, o)
    }

    /// The zip64 extra field (id 1) holds, in this order, only those of uncompressed size, compressed
    /// size and local header offset whose 32-bit field is 0xFFFFFFFF.
    private static func applyZip64Extra(_ extra: [UInt8], _ uncompressed: inout UInt64, _ compressed: inout UInt64,
                                        _ offset: inout UInt64, file: String, name: String) throws {
        let r = ByteReader(extra, file: file, item: name)
        var p = 0
        while p + 4 <= extra.count {
            let id = try r.u16(p, "an extra field"), length = Int(try r.u16(p + 2, "an extra field"))
            if id == 1 {
                var q = p + 4
                for field in [0, 1, 2] {
                    let needed = [uncompressed, compressed, offset][field] == 0xFFFF_FFFF
                    guard needed else { continue }
                    guard q + 8 <= p + 4 + length else {
                        throw DataError(.corrupt, file: file, item: name, "zip64 extra field is too short")
                    }
                    let value = try r.u64(q, "the zip64 extra field")
                    switch field {
                    case 0: uncompressed = value
                    case 1: compressed = value
                    default: offset = value
                    }
                    q += 8
                }
            }
            p += 4 + length
        }
    }
}
