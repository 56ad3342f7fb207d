import CImageDecode
import Foundation

/// An 8-bit grayscale image, rows packed top to bottom: pixel (x, y) is `pixels[y * width + x]`.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "GrayImage: \(pixels.count) pixels for \(width)×\(height)")
        self.width = width; self.height = height; self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }
}

/// A decoded file before conversion to gray: 1 (gray) or 3 (RGB) interleaved 8-bit channels.
public struct DecodedImage: Sendable, Equatable {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }
    public let format: Format
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Bits per sample in the file (16 for a 16-bit PNG, else 8); `pixels` are always 8-bit.
    public let bitDepth: Int
    /// `height × width × channels`, row-major, channels interleaved.
    public let pixels: [UInt8]

    public init(format: Format, width: Int, height: Int, channels: Int, bitDepth: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && (channels == 1 || channels == 3) && pixels.count == width * height * channels,
                     "DecodedImage: \(pixels.count) samples for \(width)×\(height)×\(channels)")
        self.format = format; self.width = width; self.height = height; self.channels = channels
        self.bitDepth = bitDepth; self.pixels = pixels
    }

    /// Gray as PIL's `Image.convert("L")` makes it: ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 + B·114/1000,
    /// in PIL's 16-bit fixed point with rounding, `(19595·R + 38470·G + 7471·B + 2¹⁵) >> 16` (the weights are
    /// 0.299, 0.587, 0.114 times 2¹⁶, summing to exactly 2¹⁶, so white stays 255).
    public var gray: GrayImage {
        if channels == 1 { return GrayImage(width: width, height: height, pixels: pixels) }
        var out = [UInt8](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { rgb in
            for p in 0..<out.count {
                let r = UInt32(rgb[3 * p]), g = UInt32(rgb[3 * p + 1]), b = UInt32(rgb[3 * p + 2])
                out[p] = UInt8((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }
}

/// Why an image file could not be used. `description` names the file.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file could not be read (missing, unreadable, too big to load).
        case unreadable
        /// Neither a PNG nor a JPEG signature.
        case unknownFormat
        /// Malformed or truncated data.
        case corrupt
        /// Dimensions beyond `ImageFile.maxSide` / `ImageFile.maxPixels`.
        case tooLarge
        /// A valid file in a variant not decoded here (CMYK or 12-bit JPEG).
        case unsupported
        case outOfMemory
    }

    public let kind: Kind
    public let file: String
    public let message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind; self.file = file; self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// Reads chest X-ray files: PNG (libpng) and JPEG (libjpeg-turbo), gray or colour, any size within limits.
public enum ImageFile {
    /// Longest accepted side, checked from the header before any pixel memory is allocated.
    public static let maxSide = 16_384
    /// Most pixels accepted (10⁸: a 10 000 × 10 000 image; chest radiographs are at most about 4 300 × 4 300).
    public static let maxPixels = 100_000_000
    /// Largest file read into memory.
    public static let maxFileBytes = 512 << 20

    /// Decodes `url` and converts it to gray as PIL's `convert("L")` does.
    public static func decode(url: URL) throws -> GrayImage {
        try decodePixels(url: url).gray
    }

    /// Decodes `url` without converting colour.
    public static func decodePixels(url: URL) throws -> DecodedImage {
        let name = url.path
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: name)
            guard attributes[.type] as? FileAttributeType == .typeRegular else {   // not a FIFO or /dev/zero
                throw ImageError(.unreadable, file: name, "not a regular file")
            }
            let size = attributes[.size] as? Int ?? 0
            guard size <= maxFileBytes else {
                throw ImageError(.unreadable, file: name, "the file is \(size) bytes; the limit is \(maxFileBytes)")
            }
            data = try Data(contentsOf: url)
        } catch let error as ImageError {
            throw error
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw ImageError(.unreadable, file: name, "cannot read the file: \(reason)")
        }
        return try decodePixels(data: data, name: name)
    }

    /// Decodes PNG or JPEG bytes, told apart by their signature (not the file name). `name` is for messages.
    public static func decodePixels(data: Data, name: String) throws -> DecodedImage {
        let format: DecodedImage.Format
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            format = .png
        } else if data.starts(with: [0xFF, 0xD8, 0xFF]) {
            format = .jpeg
        } else if data.isEmpty {
            throw ImageError(.unknownFormat, file: name, "the file is empty")
        } else {
            throw ImageError(.unknownFormat, file: name, "not a PNG or JPEG file (unrecognised signature \(signature(data)))")
        }
        var image = cimg_image()
        let status = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32 in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress
            return format == .png
                ? cimg_decode_png(base, bytes.count, UInt32(maxSide), UInt64(maxPixels), &image)
                : cimg_decode_jpeg(base, bytes.count, UInt32(maxSide), UInt64(maxPixels), &image)
        }
        defer { cimg_image_free(&image) }
        guard status == Int32(CIMG_OK.rawValue), let pixels = image.pixels else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            throw ImageError(kind(status), file: name, message.isEmpty ? "cannot decode the \(format.rawValue) data" : message)
        }
        let (w, h, c) = (Int(image.width), Int(image.height), Int(image.channels))
        return DecodedImage(format: format, width: w, height: h, channels: c, bitDepth: Int(image.bit_depth),
                            pixels: Array(UnsafeBufferPointer(start: pixels, count: w * h * c)))
    }

    /// The versions of the decoding libraries linked in.
    public static var libraryVersions: String { String(cString: cimg_library_versions()) }

    private static func kind(_ status: Int32) -> ImageError.Kind {
        switch UInt32(bitPattern: status) {
        case CIMG_TOO_LARGE.rawValue: .tooLarge
        case CIMG_UNSUPPORTED.rawValue: .unsupported
        case CIMG_NO_MEMORY.rawValue: .outOfMemory
        default: .corrupt
        }
    }

    private static func signature(_ data: Data) -> String {
        data.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
    }
}
