import Foundation

/// Whole-file reads and crash-safe writes.
///
/// Writes go to a hidden temporary file in the destination's directory and are then renamed over the
/// destination: `rename(2)` within one file system is atomic, so a reader (or a later run after a crash)
/// sees either the old file or the complete new one, never a half-written file that looks complete.
enum FileIO {
    static func readBytes(_ url: URL) throws -> [UInt8] {
        let data: Foundation.Data
        do {
            data = try Foundation.Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw DataError(.io, file: url.path, "cannot read: \(reason(error))")
        }
        return [UInt8](data)
    }

    /// A fresh temporary path next to `url`, named so that it cannot be mistaken for the final file.
    static func temporarySibling(of url: URL) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
    }

    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(.io, file: url.path, "cannot create directory \(directory.path): \(reason(error))")
        }
        let temporary = temporarySibling(of: url)
        do {
            try Foundation.Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError(.io, file: url.path, "cannot write \(temporary.path): \(reason(error))")
        }
        try moveIntoPlace(temporary, url)
    }

    /// Renames `source` onto `destination`, replacing it; removes `source` when the rename fails.
    static func moveIntoPlace(_ source: URL, _ destination: URL) throws {
        guard rename(source.path, destination.path) == 0 else {
            let message = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: source)
            throw DataError(.io, file: destination.path, "cannot rename \(source.path) into place: \(message)")
        }
    }

    /// The human part of a Foundation error, without the bridging noise.
    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
