import CZlib

/// Thin, non-trapping wrappers over the system zlib: raw inflate for zip members, zlib-format deflate and
/// CRC-32 for PNG chunks and zip checks.
enum Zlib {
    struct Failure: Error {
        enum Kind { case truncated, corrupt, tooLong }
        let kind: Kind
        let message: String
    }

    /// zlib counts in `uInt` (32 bits); larger buffers are fed in pieces of this size.
    private static let chunk = 1 << 30

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { raw in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < raw.count {
                let n = min(chunk, raw.count - offset)
                crc = CZlib.crc32(crc, raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset, uInt(n))
                offset += n
            }
            return UInt32(crc)
        }
    }

    /// Inflates a raw deflate stream that must produce exactly `expectedSize` bytes and then end.
    ///
    /// The output buffer has one spare byte so that a stream longer than declared is caught rather than
    /// silently cut; a stream that stops early is `.truncated`, a bad one `.corrupt` with zlib's message.
    static func inflateRaw(_ input: ArraySlice<UInt8>, expectedSize: Int) throws(Failure) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedSize + 1)
        let padded = input.isEmpty ? [0][...] : input  // zlib rejects a null next_in
        let availableInput = input.count
        var stream = z_stream()
        guard czlib_inflate_init_raw(&stream) == Z_OK else {
            throw Failure(kind: .corrupt, message: "zlib could not start an inflater")
        }
        defer { inflateEnd(&stream) }
        let result: Result<Int, Failure> = padded.withUnsafeBytes { inRaw in
            output.withUnsafeMutableBytes { outRaw in
                let inBase = UnsafeMutablePointer(mutating: inRaw.baseAddress!.assumingMemoryBound(to: Bytef.self))
                let outBase = outRaw.baseAddress!.assumingMemoryBound(to: Bytef.self)
                var consumed = 0, produced = 0
                while true {
                    let inCount = min(chunk, availableInput - consumed)
                    let outCount = min(chunk, outRaw.count - produced)
                    stream.next_in = inBase + consumed
                    stream.avail_in = uInt(inCount)
                    stream.next_out = outBase + produced
                    stream.avail_out = uInt(outCount)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let usedIn = inCount - Int(stream.avail_in), usedOut = outCount - Int(stream.avail_out)
                    consumed += usedIn
                    produced += usedOut
                    if produced > expectedSize {
                        return .failure(Failure(kind: .tooLong, message: "deflate stream inflates to more than the declared \(expectedSize) bytes"))
                    }
                    switch status {
                    case Z_STREAM_END:
                        return .success(produced)
                    case Z_OK where usedIn > 0 || usedOut > 0:
                        continue
                    case Z_OK, Z_BUF_ERROR:
                        // No progress: the input ran out before the stream's end block.
                        return .failure(Failure(kind: .truncated, message: "deflate stream ends after \(produced) of \(expectedSize) bytes"))
                    default:
                        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                        return .failure(Failure(kind: .corrupt, message: "invalid deflate data: \(message)"))
                    }
                }
            }
        }
        let produced = try result.get()
        guard produced == expectedSize else {
            throw Failure(kind: .truncated, message: "deflate stream ends after \(produced) of \(expectedSize) bytes")
        }
        output.removeLast()
        return output
    }

    /// zlib-format (RFC 1950) compression at the default level, as PNG's IDAT requires.
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                compress2(outBuf.baseAddress, &length, inBuf.baseAddress, uLong(inBuf.count), Z_DEFAULT_COMPRESSION)
            }
        }
        // compress2 fails only on out-of-memory or a too-small buffer, and compressBound rules out the latter.
        precondition(status == Z_OK, "zlib compress2 failed with \(status)")
        return Array(output.prefix(Int(length)))
    }
}
