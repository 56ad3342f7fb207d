import Foundation

/// A NumPy `.npz` file: a zip archive whose members are `.npy` files named `<key>.npy`, written stored
/// by `np.savez` and deflated by `np.savez_compressed`.
///
/// Opening reads only the central directory; each array is extracted, inflated and parsed when it is
/// asked for, so a damaged or absent member costs nothing until someone needs it.
public struct NPZArchive: Sendable {
    public let file: String
    private let zip: ZipArchive

    public init(contentsOf url: URL) throws {
        zip = try ZipArchive(contentsOf: url)
        file = url.path
    }

    public init(bytes: [UInt8], file: String) throws {
        zip = try ZipArchive(bytes: bytes, file: file)
        self.file = file
    }

    /// Array keys, in archive order (`train_images`, not `train_images.npy`).
    public var keys: [String] {
        zip.entries.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
    }

    public func contains(_ key: String) -> Bool {
        zip.entry(named: key + ".npy") != nil || zip.entry(named: key) != nil
    }

    /// The array stored under `key`; errors name this file and the member.
    public func array(_ key: String) throws -> NPYArray {
        guard let entry = zip.entry(named: key + ".npy") ?? zip.entry(named: key) else {
            throw DataError(.missing, file: file, item: key, "no such array (the archive has \(keys.joined(separator: ", ")))")
        }
        return try NPYReader.decode(zip.extract(entry), file: file, name: entry.name)
    }
}
