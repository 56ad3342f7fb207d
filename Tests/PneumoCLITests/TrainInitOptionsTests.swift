import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import pneumo

/// `train --init FILE [--init-strict]`: the flags' validation (loading is `InitialWeightsTests`'s).
@Suite struct TrainInitOptionsTests {
    @Test func initNeedsAFileAndStrictNeedsInit() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("w.safetensors")
        try Data([0]).write(to: file)
        let parsed = try TrainCommand.parse(["--out", dir.appendingPathComponent("run").path, "--init", file.path, "--init-strict"])
        #expect(parsed.initFile == file.path && parsed.initStrict)
        #expect(Self.message(["--out", "/tmp/x", "--init", dir.appendingPathComponent("nope").path])
                == "--init: no such file: \(dir.appendingPathComponent("nope").path)")
        #expect(Self.message(["--out", "/tmp/x", "--init", dir.path]) == "--init: \(dir.path) is a directory, not a safetensors file")
        #expect(Self.message(["--out", "/tmp/x", "--init-strict"]) == "--init-strict needs --init FILE")
    }

    /// The parse error's message, or nil where the arguments parse.
    static func message(_ arguments: [String]) -> String? {
        do { _ = try TrainCommand.parse(arguments); return nil } catch { return TrainCommand.message(for: error) }
    }
}
