import Testing
import Foundation
import ArgumentParser
@testable import pneumo
import TestSupport

/// Output options are checked before a command starts: `pipeline --out FILE` had ended in Foundation's
/// "Error Domain=NSCocoaErrorDomain Code=516 …", `report --out DIR` only after rendering the page.
@Suite struct OutputPathTests {
    @Test func directoriesAndFilesAreWhereTheyBelong() throws {
        let dir = try temporaryDirectory("cli-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let cases: [(any ParsableCommandForTest.Type, [String], String)] = [
            (PipelineCommand.self, ["--out", file], "--out is a file, not a directory: \(file)"),
            (TrainCommand.self, ["--model", "pneumonet", "--out", file], "--out is a file, not a directory: \(file)"),
            (DataCommand.self, ["--samples", dir.path], "--samples is a directory: \(dir.path)"),
            (ReportCommand.self, ["--run", dir.path, "--out", dir.path], "--out is a directory: \(dir.path)"),
            (ExportCommand.self, ["--model", "pneumonet", "--out", dir.path], "--out is a directory: \(dir.path)"),
        ]
        for (command, arguments, message) in cases {
            #expect(command.validationMessage(arguments) == message, "\(command) \(arguments)")
        }
        // What does not exist yet is fine.
        #expect(PipelineCommand.validationMessage(["--out", dir.appendingPathComponent("new").path]) == nil)
        #expect(DataCommand.validationMessage(["--samples", dir.appendingPathComponent("grid.svg").path]) == nil)
    }
}

/// Parses `arguments` and returns the validation message, or nil when they are valid.
protocol ParsableCommandForTest { static func validationMessage(_ arguments: [String]) -> String? }

extension ParsableCommandForTest where Self: ParsableCommand {
    static func validationMessage(_ arguments: [String]) -> String? {
        do { _ = try parse(arguments); return nil } catch { return message(for: error) }
    }
}

extension PipelineCommand: ParsableCommandForTest {}
extension TrainCommand: ParsableCommandForTest {}
extension DataCommand: ParsableCommandForTest {}
extension ReportCommand: ParsableCommandForTest {}
extension ExportCommand: ParsableCommandForTest {}
