import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import pneumo

/// The start-up check refuses every command but `env` (which reports the problem itself) and `report` (which reads
/// files only) when the installed oneDNN is not one this build runs on.
@Suite struct OneDNNCheckTests {
    static let problem = "oneDNN 3.1.0 is installed, but …"

    @Test func commandsThatRunKernelsAreRefused() throws {
        for arguments in [["train", "--out", "/tmp/x"], ["bench", "train"], ["summary", "--model", "resnet18", "--input-size", "28"],
                          ["export", "--model", "pneumonet", "--out", "/tmp/m.onnx"]] {
            let command = try Pneumo.parseAsRoot(arguments)
            #expect(OneDNNCheck.refusal(for: command, problem: Self.problem) == Self.problem, "\(arguments)")
            #expect(OneDNNCheck.refusal(for: command, problem: nil) == nil)
        }
    }

    @Test func envAndReportRunWhateverIsInstalled() throws {
        let run = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: run) }
        for arguments in [["env"], ["env", "--json"], ["report", "--run", run.path]] {
            #expect(OneDNNCheck.refusal(for: try Pneumo.parseAsRoot(arguments), problem: Self.problem) == nil, "\(arguments)")
        }
    }
}
