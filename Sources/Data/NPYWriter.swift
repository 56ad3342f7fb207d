import GraphCore
import Foundation

/// Writes float32 arrays as .npy, the format `np.load` reads directly (used by `pneumo infer --output`).
public enum NPYWriter {
    /// The bytes of a version 1.0 .npy file (2.0 when the header outgrows 65535 bytes), with the header
    /// padded so that the data starts on a 64-byte boundary, as numpy ≥ 1.17 writes it (lets readers
    /// memory-map the data aligned).
    public static func encode(shape: [Int], scalars: [Float]) throws -> [UInt8] {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw DataError(.invalidArgument, file: "<npy>", "\(scalars.count) values do not fill shape \(describeShape(shape))")
        }
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // numpy's `_wrap_header`: pad with 1…64 spaces (64 when already aligned) before the newline.
        var version: UInt8 = 1, preamble = 10
        var padding = 64 - (preamble + dict.utf8.count + 1) % 64
        if dict.utf8.count + 1 + padding > 65535 {
            (version, preamble) = (2, 12)
            padding = 64 - (preamble + dict.utf8.count + 1) % 64
        }
        let header = dict + String(repeating: " ", count: padding) + "\n"

        var out = NPYHeader.magic + [version, 0]
        if version == 1 { out.appendLE(UInt16(header.utf8.count)) } else { out.appendLE(UInt32(header.utf8.count)) }
        out += Array(header.utf8)
        out.reserveCapacity(out.count + scalars.count * 4)
        for v in scalars { out.appendLE(v.bitPattern) }
        return out
    }

    /// Writes `tensor` (logical row-major order) to `url` through a temporary file and a rename.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        do {
            try FileIO.writeAtomically(encode(shape: tensor.shape, scalars: tensor.scalars), to: url)
        } catch let error as DataError where error.file == "<npy>" {
            throw error.located(file: url.path, item: nil)
        }
    }
}
