import Foundation

extension AtomicFile {
    /// Removes the temporaries that a killed writer left in `directory` (`kill -9` during a checkpoint write
    /// left a `.best.safetensors.<pid>.tmp` that no later run removed). Only regular files named exactly
    /// `.NAME.PID.tmp` go, and only when no process PID is alive: a running writer's file stays. (A dead
    /// writer's PID reused by another process keeps its file until a later start: harmless.) Returns what
    /// was removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [URL] = []
        for name in names.sorted() {
            guard let pid = temporaryOwner(name), !isAlive(pid) else { continue }
            let url = directory.appendingPathComponent(name)
            var info = stat()
            guard lstat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, unlink(url.path) == 0 else { continue }
            removed.append(url)
        }
        return removed
    }

    /// The PID in a name of the form `.NAME.PID.tmp` (NAME not empty, PID decimal and positive), else nil.
    static func temporaryOwner(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let stem = name.dropFirst().dropLast(4)
        guard let dot = stem.lastIndex(of: "."), dot > stem.startIndex else { return nil }
        let digits = stem[stem.index(after: dot)...]
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ ("0"..."9").contains($0) }),
              let pid = pid_t(digits), pid > 0 else { return nil }
        return pid
    }

    /// Whether a process with this PID exists (`kill(pid, 0)`; EPERM means it exists but is not ours).
    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
