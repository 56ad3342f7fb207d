import Foundation

/// An exclusive lock on an output folder for the length of a command, so that a second `pneumo train --out
/// DIR` is refused by name instead of interleaving its checkpoints with the first one's. (Both runs used to
/// exit 0, the second reporting its own best AUC beside a best.safetensors that held the first run's model.)
///
/// The lock is `flock(2)` on `DIR/.pneumo.lock`, which holds the owner's PID for the message. The kernel
/// drops it when the process ends, however it ends, so a killed run never leaves the folder locked. The file
/// stays behind: removing it would let a third process lock a fresh file while a second still holds the old.
/// Taking the lock creates the folder, which doubles as the check that it is writable before any work.
public final class OutputLock: Sendable {
    public static let fileName = ".pneumo.lock"

    public let directory: URL
    private let descriptor: Int32

    /// Another process (or another lock in this one) holds the folder.
    public struct Busy: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
        public let directory: String
        public let pid: Int32?
        public init(directory: String, pid: Int32?) { self.directory = directory; self.pid = pid }
        public var description: String {
            "another pneumo (\(pid.map { "pid \($0)" } ?? "pid unknown")) is writing to \(directory)"
        }
        public var errorDescription: String? { description }
    }

    /// Creates `directory` when needed, locks it, and removes stale temporaries of killed writers there.
    public init(directory: URL) throws {
        let path = directory.path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputFileError(path, "cannot create the output directory: \(error.localizedDescription)")
        }
        let lockPath = directory.appendingPathComponent(Self.fileName).path
        // O_NOFOLLOW: a symlink planted under the lock's name must not make us truncate another file.
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw OutputFileError(path, "cannot write in the output directory (\(lockPath): \(errnoText()))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let owner = Self.owner(fd)
            close(fd)
            if code == EWOULDBLOCK { throw Busy(directory: path, pid: owner) }
            throw OutputFileError(path, "cannot lock \(lockPath): \(errnoText(code))")
        }
        let text = Array("\(ProcessInfo.processInfo.processIdentifier)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        self.directory = directory
        self.descriptor = fd
        AtomicFile.removeStaleTemporaries(in: directory)
    }

    deinit { close(descriptor) }

    /// Runs `body` holding the lock on `directory` (kept alive until `body` returns: Swift may otherwise
    /// release an unused local, and the lock with it, at once).
    public static func holding<T>(_ directory: URL, _ body: () throws -> T) throws -> T {
        let lock = try OutputLock(directory: directory)
        return try withExtendedLifetime(lock) { try body() }
    }

    /// The PID written in the lock file by its holder, if it has written one yet.
    private static func owner(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
