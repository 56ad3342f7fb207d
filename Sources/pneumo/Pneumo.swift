import ArgumentParser

@main
struct Pneumo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pneumo",
        abstract: "Train, profile, optimize and deploy a chest X-ray pneumonia classifier.",
        subcommands: [PipelineCommand.self, DataCommand.self, TrainCommand.self, CVCommand.self, EvalCommand.self, SummaryCommand.self, ProfileCommand.self, AnalyzeCommand.self, ExportCommand.self, InferCommand.self, SLACommand.self, PredictCommand.self, ReportCommand.self, OptimizeCommand.self, BenchCommand.self, ServeCommand.self])
}
