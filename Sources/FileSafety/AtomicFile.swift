import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes an output file so that readers, and a later run after `kill -9`, never see a half-written file:
/// the bytes go to a temporary sibling `.NAME.PID.tmp`, which is then renamed over `NAME`.
///
/// Renaming happens only over a regular file or a missing path. A symlink is written through: the file it
/// names is replaced the same way, in that file's directory, and the link stays. A FIFO or a character
/// device is opened and written directly (what the user asked for; replacing it would break every other
/// program that uses it). Directories, block devices and sockets are refused by name.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        switch try Destination.of(url.path) {
        case .writeThrough(let path): try writeThrough(data, to: path, given: url.path)
        case .replace(let path): try replace(data, at: path, given: url.path)
        }
    }

    /// Puts a complete file written elsewhere (a download) at `url` by the same rules as `write`, and
    /// removes `temporary` whatever happens.
    public static func moveIntoPlace(_ temporary: URL, to url: URL) throws {
        defer { try? FileManager.default.removeItem(at: temporary) }
        if case .replace(let path) = try Destination.of(url.path), rename(temporary.path, path) == 0 { return }
        // A FIFO or device, or a rename that cannot cross to a symlink's target on another file system.
        let data: Data
        do { data = try Data(contentsOf: temporary) } catch {
            throw OutputFileError(url.path, "cannot read \(temporary.path): \(error.localizedDescription)")
        }
        try write(data, to: url)
    }

    /// The temporary sibling this process writes for `url`: `.NAME.PID.tmp`, which
    /// `removeStaleTemporaries` recognises once the process is gone.
    public static func temporary(for url: URL) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    }

    static func replace(_ data: Data, at path: String, given: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputFileError(given, "cannot create the directory \(directory.path): \(error.localizedDescription)")
        }
        let temporary = temporary(for: url)
        do {
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw OutputFileError(given, "cannot write \(temporary.path): \(error.localizedDescription)")
        }
        // POSIX rename replaces the target atomically (Foundation's replaceItemAt does not on Linux).
        guard rename(temporary.path, path) == 0 else {
            let reason = errnoText()
            try? FileManager.default.removeItem(at: temporary)
            throw OutputFileError(given, "cannot rename \(temporary.path) to \(path): \(reason)")
        }
    }

    /// Opens an existing FIFO or device for writing (no `O_CREAT`: it must stay what it is) and writes every
    /// byte. Opening a FIFO waits for a reader, as a shell redirection does.
    static func writeThrough(_ data: Data, to path: String, given: String) throws {
        let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw OutputFileError(given, "cannot open \(path) for writing: \(errnoText())") }
        defer { close(fd) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OutputFileError(given, "write to \(path) failed after \(offset) of \(raw.count) bytes: \(errnoText())")
                }
                offset += n
            }
        }
    }
}
