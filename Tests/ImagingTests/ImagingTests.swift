import GraphCore
import Foundation
import Imaging
import Testing
import TestSupport

// Fixtures and expected values: scripts/make_imaging_fixtures.py (Pillow; version in expected.json).

private func fixture(_ name: String) -> URL { fixtureURL(name, in: .module) }

private struct Expected: Decodable {
    struct File: Decodable {
        let width: Int, height: Int, channels: Int
        let samples: [UInt8]?
        let gray: [UInt8]
    }
    struct Resize: Decodable {
        let source: String, size: Int, filter: String
        let crop: [Int]
        let pixels: [UInt8]
    }
    let files: [String: File]
    let resize: [Resize]

    static let shared: Expected = try! JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixture("expected.json")))
}

private func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

private func decodeError(_ name: String) -> ImageError? {
    do {
        _ = try ImageFile.decode(url: fixture(name))
        return nil
    } catch let error as ImageError {
        return error
    } catch {
        Issue.record("\(name): not an ImageError: \(error)")
        return nil
    }
}

@Suite struct DecodeTests {
    /// PNG is lossless: every sample must equal PIL's, exactly. Alpha is dropped (not composited), as PIL's
    /// convert("L") does; a palette is expanded to RGB; 1-bit gray becomes 0/255.
    @Test(arguments: ["gray8.png", "gray_alpha.png", "rgb8.png", "rgba8.png", "palette.png", "gray1.png"])
    func pngMatchesPIL(name: String) throws {
        let want = try #require(Expected.shared.files[name])
        let image = try ImageFile.decodePixels(url: fixture(name))
        #expect(image.format == .png)
        #expect(image.width == want.width && image.height == want.height && image.channels == want.channels)
        #expect(image.pixels == want.samples)
        #expect(image.gray.pixels == want.gray, "convert(\"L\") luma")
        #expect(try ImageFile.decode(url: fixture(name)) == image.gray)
    }

    /// 16-bit gray: round(v · 255 / 65535) of the stored value, exactly (libpng's simplified API, told the
    /// samples are already display-encoded, scales; it does not gamma-encode).
    @Test func sixteenBitPNG() throws {
        let want = try #require(Expected.shared.files["gray16.png"])
        let image = try ImageFile.decodePixels(url: fixture("gray16.png"))
        #expect(image.bitDepth == 16 && image.channels == 1)
        #expect(image.pixels == want.gray)
        #expect(Array(image.pixels.prefix(3)) == [0, 255, 128])
    }

    /// JPEG: PIL and we both decode with libjpeg-turbo's defaults (ISLOW IDCT, fancy upsampling), but Pillow's
    /// wheel bundles a newer libjpeg-turbo than Debian's; the tolerance is 1 level in 255 per sample (the
    /// fixtures currently match exactly: Pillow 13's libjpeg-turbo 3.x against Debian 12's 2.1.5).
    @Test(arguments: ["gray.jpg", "rgb420.jpg", "progressive.jpg"])
    func jpegMatchesPIL(name: String) throws {
        let want = try #require(Expected.shared.files[name])
        let image = try ImageFile.decodePixels(url: fixture(name))
        #expect(image.format == .jpeg)
        #expect(image.width == want.width && image.height == want.height && image.channels == want.channels)
        #expect(maxDifference(image.pixels, try #require(want.samples)) <= 1)
        #expect(maxDifference(image.gray.pixels, want.gray) <= 1)
    }

    @Test func lumaIsPILsFixedPoint() {
        // (19595 R + 38470 G + 7471 B + 2^15) >> 16; white stays white, pure primaries give 76, 150, 29.
        let rgb: [UInt8] = [255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let image = DecodedImage(format: .png, width: 5, height: 1, channels: 3, bitDepth: 8, pixels: rgb)
        #expect(image.gray.pixels == [255, 76, 150, 29, 18])
    }
}

@Suite struct HostileFileTests {
    /// Each bad file gives a thrown ImageError of the right kind whose description names the file; none crashes.
    @Test(arguments: [
        ("truncated.png", ImageError.Kind.corrupt, "corrupt PNG data"),
        ("truncated.jpg", .corrupt, "Premature end of JPEG file"),
        ("random.bin", .unknownFormat, "not a PNG or JPEG file"),
        ("signature_then_noise.png", .corrupt, "not a valid PNG"),
        ("empty.png", .unknownFormat, "the file is empty"),
        ("huge.png", .tooLarge, "100000×100000 pixels; the limit is 16384 on a side"),
        ("zero_width.png", .corrupt, "not a valid PNG"),
        ("huge.jpg", .tooLarge, "60000×60000 pixels; the limit is 16384 on a side"),
        ("cmyk.jpg", .unsupported, "colour space"),
        ("bad_crc.png", .corrupt, "CRC"),
        ("no_such_file.png", .unreadable, "cannot read the file"),
        ("", .unreadable, "not a regular file"),   // the Fixtures directory itself
    ])
    func rejected(name: String, kind: ImageError.Kind, message: String) throws {
        let error = try #require(decodeError(name))
        #expect(error.kind == kind, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.description.hasPrefix(fixture(name).path + ": "))
    }

    /// Every prefix of a valid file is an error, except a PNG cut inside its closing IEND chunk, after the last
    /// IDAT: every pixel is there, libpng (like PIL) decodes it, and the pixels must be the full file's.
    @Test(arguments: ["rgb8.png", "rgb420.jpg", "progressive.jpg"])
    func everyTruncationIsAnErrorOrComplete(name: String) throws {
        let data = try Data(contentsOf: fixture(name))
        let full = try ImageFile.decodePixels(data: data, name: name)
        let complete = name.hasSuffix(".png") ? data.count - 12 : data.count   // IEND: length, type, CRC
        for length in 0..<data.count {
            if length >= complete {
                #expect(try ImageFile.decodePixels(data: data.prefix(length), name: name) == full)
            } else {
                #expect(throws: ImageError.self, "\(name) cut at \(length) bytes") {
                    try ImageFile.decodePixels(data: data.prefix(length), name: name)
                }
            }
        }
    }

    /// Seeded fuzzing: random bytes behind each signature, and valid files with a few bytes overwritten (and
    /// sometimes cut). Each must decode or throw an ImageError; a crash fails the whole run.
    @Test func fuzzedFilesDecodeOrThrow() throws {
        var rng = SeededRandom(seed: 42)
        for signature in [[UInt8]([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), [0xFF, 0xD8, 0xFF]] {
            for _ in 0..<200 {
                let tail = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                #expect(throws: ImageError.self) { try ImageFile.decodePixels(data: Data(signature + tail), name: "fuzz") }
            }
        }
        var decoded = 0, rejected = 0
        for name in ["rgb8.png", "palette.png", "gray16.png", "gray_alpha.png", "gray.jpg", "rgb420.jpg", "progressive.jpg"] {
            let original = [UInt8](try Data(contentsOf: fixture(name)))
            for _ in 0..<300 {
                var bytes = original
                for _ in 0...Int.random(in: 0..<4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
                do {
                    let image = try ImageFile.decodePixels(data: Data(bytes), name: name)
                    #expect(image.pixels.count == image.width * image.height * image.channels)
                    decoded += 1
                } catch is ImageError {
                    rejected += 1
                }
            }
        }
        #expect(decoded + rejected == 7 * 300)
    }
}

@Suite struct PreprocessingTests {
    /// Center crop + resize equals PIL's `crop(box).resize((s, s), filter)` byte for byte: the resampler is a
    /// transcription of Pillow's fixed-point Resample.c. Tolerance: 0.
    @Test(arguments: Expected.shared.resize.indices)
    func cropAndResizeMatchPIL(index: Int) throws {
        let case_ = Expected.shared.resize[index]
        let source = try ImageFile.decode(url: fixture(case_.source))
        let filter = try #require(ResampleFilter(rawValue: case_.filter))
        let square = source.centerCroppedSquare()
        #expect(square == source.cropped(x: case_.crop[0], y: case_.crop[1], width: case_.crop[2], height: case_.crop[2]))
        let out = try MedMNISTPreprocessing(size: case_.size, filter: filter).resample(source)
        #expect(out.width == case_.size && out.height == case_.size)
        #expect(maxDifference(out.pixels, case_.pixels) == 0, "\(case_.source) → \(case_.size) \(case_.filter)")
    }

    @Test func resizeToTheSameSizeIsIdentity() throws {
        let image = try ImageFile.decode(url: fixture("tall.png"))
        for filter in ResampleFilter.allCases {
            #expect(image.resized(width: image.width, height: image.height, filter: filter) == image)
        }
    }

    /// The tensor: (byte / 255 − 0.5) / 0.5, gray replicated to 3 channels when asked.
    @Test(arguments: [1, 3])
    func tensorLayoutAndNormalisation(channels: Int) throws {
        let image = GrayImage(width: 4, height: 2, pixels: [0, 255, 51, 102, 153, 204, 1, 254])   // crop → 2×2 at x = 1
        let t = try MedMNISTPreprocessing(size: 2, channels: channels).tensor(image)
        #expect(t.shape == [1, channels, 2, 2])
        let plane: [Float] = [255, 51, 204, 1].map { Float($0) / 255 * 2 - 1 }
        let s = t.scalars
        for c in 0..<channels {
            for p in 0..<4 { #expect(abs(s[c * 4 + p] - plane[p]) < 1e-6) }
        }
    }

    @Test func invalidSettings() {
        #expect(throws: EngineError.self) { try MedMNISTPreprocessing(size: 0) }
        #expect(throws: EngineError.self) { try MedMNISTPreprocessing(size: 28, channels: 2) }
        #expect(throws: EngineError.self) { try MedMNISTPreprocessing(size: 28, std: 0) }
    }
}
