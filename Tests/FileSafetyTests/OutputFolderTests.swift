import FileSafety
import Foundation
import Testing
import TestSupport

/// What a command does to its output folder on start: lock it against a second writer, and clear the
/// temporaries a killed writer left there.
@Suite struct OutputFolderTests {
    /// A PID no process can have (above Linux's largest `pid_max`, 2²²).
    static let deadPID = Int32.max - 1

    /// `kill -9` during a checkpoint write left `.best.safetensors.<pid>.tmp`; only our exact pattern with a
    /// dead PID goes, never a live writer's file or anything else.
    @Test func staleTemporariesOfDeadWritersAreRemoved() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let me = ProcessInfo.processInfo.processIdentifier
        let stale = [".best.safetensors.\(Self.deadPID).tmp", ".history.json.\(Self.deadPID).tmp"]
        let kept = [".last.safetensors.\(me).tmp",            // a live writer (this process)
                    "best.safetensors.\(Self.deadPID).tmp",   // not hidden: not ours
                    ".notes.abc.tmp", "..\(Self.deadPID).tmp", ".x.\(Self.deadPID).tmp.bak", "best.safetensors"]
        for name in stale + kept { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        // A directory of the pattern is never removed.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".d.\(Self.deadPID).tmp"), withIntermediateDirectories: false)
        let removed = AtomicFile.removeStaleTemporaries(in: dir).map(\.lastPathComponent)
        #expect(removed == stale.sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == (kept + [".d.\(Self.deadPID).tmp"]).sorted())
    }

    /// Two writers of one folder: the second is refused by name with the first one's PID; once the first
    /// is done the folder is free again. Taking the lock also clears stale temporaries.
    @Test func secondWriterIsRefusedByName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")   // created by the lock
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: out.appendingPathComponent(".best.safetensors.\(Self.deadPID).tmp"))
        let me = ProcessInfo.processInfo.processIdentifier
        try OutputLock.holding(out) {
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".best.safetensors.\(Self.deadPID).tmp").path))
            #expect(throws: OutputLock.Busy(directory: out.path, pid: me)) { _ = try OutputLock(directory: out) }
            #expect("\(OutputLock.Busy(directory: out.path, pid: me))" == "another pneumo (pid \(me)) is writing to \(out.path)")
        }
        try OutputLock.holding(out) {}
    }

    /// An output folder that cannot be created is named before any work starts.
    @Test func unwritableFolderIsNamed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let error = #expect(throws: OutputFileError.self) { _ = try OutputLock(directory: file.appendingPathComponent("run")) }
        #expect(error?.path == file.appendingPathComponent("run").path)
        #expect(error?.reason.hasPrefix("cannot create the output directory") == true)
    }
}
