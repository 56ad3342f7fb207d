import ArgumentParser
import Foundation

@main
struct Pneumo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pneumo",
        abstract: "Train, profile, optimize and deploy a chest X-ray pneumonia classifier.",
        subcommands: [PipelineCommand.self, DataCommand.self, TrainCommand.self, CVCommand.self, EvalCommand.self, SummaryCommand.self, ProfileCommand.self, AnalyzeCommand.self, ExportCommand.self, InferCommand.self, SLACommand.self, PredictCommand.self, ReportCommand.self, OptimizeCommand.self, BenchCommand.self, ServeCommand.self, EnvCommand.self])

    /// ArgumentParser's own `main`, with the oneDNN check between parsing (help and bad flags answer without a
    /// library) and running.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if let refusal = OneDNNCheck.refusal(for: command) {
                FileHandle.standardError.write(Data("pneumo: \(refusal)\n".utf8))
                exit(withError: ExitCode(1))
            }
            // Before the tuning cache opens, so that what it reports (a corrupt file) is said once, by the process that stays.
            if command is ServeCommand { PassiveOpenMP.reexecIfNeeded() }
            if !(command is any ExemptFromOneDNNCheck) { TuningCacheSetting.enable() }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
