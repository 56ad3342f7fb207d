import ArgumentParser
import Foundation
import CPUBackend
import GraphCore
import Profile
import Runtime

/// `pneumo env`: the machine a run or a benchmark ran on, for bug reports and beside published figures.
struct EnvCommand: ParsableCommand, ExemptFromOneDNNCheck {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show the OS, CPU and its vector extensions, cores, memory, oneDNN (version, the ISA it dispatches to, its convolution kernel), Swift and any GPU.",
        discussion: "Exits with status 1 (after the report) when the oneDNN found is not one this build runs on.")

    @Flag(help: "Print a JSON object (keys: README's Environment section).") var json = false

    func run() throws {
        // `env` starts on any oneDNN (to say what is wrong); the cache's file name needs the library's version and ISA.
        let cache = OneDNNLibrary.versionProblem() == nil ? TuningCacheSetting.open() : nil
        let environment = MachineEnvironment.current(tuningCache: cache)
        print(json ? try environment.jsonString() : environment.lines.joined(separator: "\n"))
        if let problem = environment.onednn.problem {
            FileHandle.standardError.write(Data("pneumo: \(problem)\n".utf8))
            throw ExitCode(1)
        }
    }
}
