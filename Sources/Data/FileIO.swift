import FileSafety
import Foundation

/// Whole-file reads and crash-safe writes.
///
/// Writes are `AtomicFile`'s: a hidden temporary file in the destination's directory renamed over the
/// destination (`rename(2)` within one file system is atomic, so a reader, or a later run after a crash, sees
/// either the old file or the complete new one), except that a FIFO or device is written through and a
/// symlink's target is the file replaced.
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

    /// The temporary path next to `url` that a write of `url` goes through, named so that it cannot be
    /// mistaken for the final file (and is removed as stale once this process is gone).
    static func temporarySibling(of url: URL) -> URL { AtomicFile.temporary(for: url) }

    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        do { try AtomicFile.write(Foundation.Data(bytes), to: url) } catch let error as OutputFileError {
            throw DataError(.io, file: error.path, error.reason)
        }
    }

    /// Puts `source` (complete) at `destination` by `AtomicFile`'s rules; `source` is gone afterwards.
    static func moveIntoPlace(_ source: URL, _ destination: URL) throws {
        do { try AtomicFile.moveIntoPlace(source, to: destination) } catch let error as OutputFileError {
            throw DataError(.io, file: error.path, error.reason)
        }
    }

    /// The human part of a Foundation error, without the bridging noise.
    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
