import FileSafety
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output writer's rules, with a FIFO and symlinks in a temporary folder (never a real device): rename only
/// over regular files, write through FIFOs, write through symlinks to the file they name, refuse directories.
@Suite struct AtomicFileTests {
    @Test func regularFileIsReplacedWholeAndNoTemporaryRemains() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("history.json")
        try AtomicFile.write(Data("old".utf8), to: url)
        try AtomicFile.write(Data("new".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["history.json"])
    }

    /// `infer --output FIFO` left the reader with nothing: the FIFO was renamed away. Now the reader gets the
    /// bytes and the FIFO stays a FIFO.
    @Test func fifoIsWrittenThroughAndStaysAFIFO() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("out.npy")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        // A reader opened first (non-blocking), so the writer's open does not wait; the bytes fit the pipe buffer.
        let reader = open(fifo.path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let payload = Data((0..<5000).map { UInt8($0 % 251) })
        try AtomicFile.write(payload, to: fifo)
        var received = [UInt8](repeating: 0, count: 2 * payload.count)
        let n = received.withUnsafeMutableBytes { read(reader, $0.baseAddress!, $0.count) }
        #expect(n == payload.count && Data(received.prefix(max(n, 0))) == payload)
        #expect(kind(fifo) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])
    }

    /// A symlink given as an output stays a link; the file it names gets the bytes, replaced atomically in its
    /// own directory (no temporary left in either folder). A dangling link's target is created.
    @Test func symlinkIsWrittenThroughToItsTarget() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let target = elsewhere.appendingPathComponent("real.svg")
        try Data("old".utf8).write(to: target)
        let link = dir.appendingPathComponent("samples.svg")
        #expect(symlink("elsewhere/real.svg", link.path) == 0)   // relative, as `ln -s` makes them
        try AtomicFile.write(Data("new".utf8), to: link)
        #expect(kind(link) == S_IFLNK)
        #expect(try String(contentsOf: target, encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path) == ["real.svg"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["elsewhere", "samples.svg"])

        let dangling = dir.appendingPathComponent("dangling.json")
        #expect(symlink(elsewhere.appendingPathComponent("made.json").path, dangling.path) == 0)
        try AtomicFile.write(Data("{}".utf8), to: dangling)
        #expect(kind(dangling) == S_IFLNK)
        #expect(try String(contentsOf: elsewhere.appendingPathComponent("made.json"), encoding: .utf8) == "{}")
    }

    @Test func directoriesAndLinkLoopsAreRefusedByName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: OutputFileError(dir.path, "\(dir.path) is a directory, not a file")) {
            try AtomicFile.write(Data("x".utf8), to: dir)
        }
        let loop = dir.appendingPathComponent("loop")
        #expect(symlink(loop.path, loop.path) == 0)
        #expect(throws: OutputFileError(loop.path, "more than 40 symlinks to follow (a loop?)")) {
            try AtomicFile.write(Data("x".utf8), to: loop)
        }
    }

    /// A download moved into place follows the same rules: through a symlink to its target.
    @Test func moveIntoPlaceFollowsTheSameRules() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.npz"), link = dir.appendingPathComponent("link.npz")
        #expect(symlink(target.path, link.path) == 0)
        let download = dir.appendingPathComponent(".download")
        try Data("zip".utf8).write(to: download)
        try AtomicFile.moveIntoPlace(download, to: link)
        #expect(kind(link) == S_IFLNK)
        #expect(try String(contentsOf: target, encoding: .utf8) == "zip")
        #expect(!FileManager.default.fileExists(atPath: download.path))
    }
}

/// The file type bits of `url` itself (not following a symlink).
func kind(_ url: URL) -> mode_t {
    var info = stat()
    return lstat(url.path, &info) == 0 ? info.st_mode & S_IFMT : 0
}
