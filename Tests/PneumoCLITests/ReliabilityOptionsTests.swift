import ArgumentParser
import FileSafety
import Foundation
import Testing
@testable import pneumo
import TestSupport

/// What a careless or hostile user met (issue 22), refused or handled before any work, each with its words.
@Suite struct ReliabilityOptionsTests {
    func folder() throws -> URL { try temporaryDirectory("cli-reliability") }

    /// `train --threads 1000` did not finish an epoch in 60 s: the count is capped at the cores, with a note.
    @Test func threadsAreCappedAtTheCores() {
        #expect(ThreadCount.capped(1000, available: 2) == (2, "--threads 1000 capped at 2, the processors available"))
        #expect(ThreadCount.capped(2, available: 2) == (2, nil))
        #expect(ThreadCount.capped(1, available: 16) == (1, nil))
    }

    /// `--epochs -1` said "Missing value" (the dash read as a flag); now validate() names the flag and value.
    @Test func negativeNumbersReachValidation() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        for (flag, value) in [("--epochs", "-1"), ("--batch-size", "-8"), ("--patience", "0")] {
            #expect(TrainCommand.validationMessage(["--out", out.path, flag, value]) == "\(flag) must be a positive whole number, got \(value)")
        }
        #expect(TrainCommand.validationMessage(["--out", out.path, "--threads", "-2"]) == "--threads must be positive, got -2")
        #expect(PipelineCommand.validationMessage(["--out", out.path, "--baseline-epochs", "-3"]) == "--baseline-epochs must be a positive whole number, got -3")
    }

    /// A directory given as `--data` was reported as "no such file".
    @Test func dataDirectoryIsCalledADirectory() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(TrainCommand.validationMessage(["--out", dir.appendingPathComponent("run").path, "--data", dir.path])
                == "--data is a directory, not a MedMNIST .npz file: \(dir.path)")
        #expect(TrainCommand.validationMessage(["--out", dir.appendingPathComponent("run").path, "--data", dir.appendingPathComponent("none.npz").path])
                == "--data: no such file: \(dir.appendingPathComponent("none.npz").path)")
    }

    /// An --out that cannot be written failed only after a whole epoch, with a raw NSError.
    @Test func unwritableOutIsRefusedBeforeTraining() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let under = file.appendingPathComponent("run").path
        #expect(TrainCommand.validationMessage(["--out", under])
                == "--out cannot be created: \(file.path) is not a directory (in \(under))")
        #expect(ExportCommand.validationMessage(["--model", "pneumonet", "--out", file.appendingPathComponent("m.onnx").path])?
                .hasPrefix("--out cannot be created: \(file.path) is not a directory") == true)
    }

    @Test(.enabled(if: getuid() != 0, "root may write anywhere")) func readOnlyOutIsRefused() throws {
        let dir = try folder()
        defer { chmod(dir.path, 0o700); try? FileManager.default.removeItem(at: dir) }
        #expect(chmod(dir.path, 0o500) == 0)
        #expect(TrainCommand.validationMessage(["--out", dir.appendingPathComponent("run").path])
                == "--out is not writable: \(dir.path) (for \(dir.appendingPathComponent("run").path)): Permission denied")
    }

    /// A FIFO or symlink given as an output file passes the checks: it is written through, not replaced.
    @Test func fifoAndSymlinkOutputsAreAccepted() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("grid.svg"), link = dir.appendingPathComponent("link.svg")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(symlink(dir.appendingPathComponent("target.svg").path, link.path) == 0)
        #expect(DataCommand.validationMessage(["--samples", fifo.path]) == nil)
        #expect(DataCommand.validationMessage(["--samples", link.path]) == nil)
    }

    /// Two writers of one --out: the command takes the folder's lock before it reads data or trains, so the
    /// second is refused by name. (Both used to run, each reporting its own best beside the other's checkpoint.)
    @Test func secondWriterOfAnOutputFolderIsRefused() throws {
        let out = try folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let me = ProcessInfo.processInfo.processIdentifier
        let busy = OutputLock.Busy(directory: out.path, pid: me)
        try OutputLock.holding(out) {
            #expect(throws: busy) { try TrainCommand.parse(["--out", out.path]).run() }
            #expect(throws: busy) { try CVCommand.parse(["--out", out.path]).run() }
            #expect(throws: busy) { try PipelineCommand.parse(["--out", out.path]).run() }
        }
        #expect("\(busy)" == "another pneumo (pid \(me)) is writing to \(out.path)")
    }
}

extension CVCommand: ParsableCommandForTest {}
