import ArgumentParser

@main
struct Pneumo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pneumo",
        abstract: "Train, profile, optimize and deploy a chest X-ray pneumonia classifier.",
        subcommands: [DataCommand.self, TrainCommand.self, EvalCommand.self, ProfileCommand.self, BenchCommand.self])
}
