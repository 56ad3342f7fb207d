import CPUBackend
import ArgumentParser
import Foundation
import Models
import Train

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks of the engine.", subcommands: [BenchTrainCommand.self, BenchInferCommand.self, BenchConvCommand.self])
}

/// Times the full training step (forward, backward, Adam update) on random data.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time a training step (forward, backward, Adam) and print median step_ms, samples_per_s and gflops_per_s.")

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "resnet18"
    @Option(name: .customLong("input-size"), help: "Input height and width in pixels.") var inputSize = 64
    @Option(help: "Input channels.") var channels = 3
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Timed steps (after warm-up).") var steps = 10
    @Option(help: "Warm-up steps, not timed.") var warmup = 2
    @Option(help: "Threads for the kernels (default: all cores).") var threads: Int?
    @Option(help: "Backend: onednn or reference.") var backend = BackendName.onednn
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard inputSize >= 8 else { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        guard batch >= 1, steps >= 1, warmup >= 0, channels >= 1 else {
            throw ValidationError("--batch, --steps and --channels must be positive and --warmup non-negative")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        var benchmark = TrainingBenchmark()
        benchmark.model = model
        benchmark.inputSize = inputSize
        benchmark.channels = channels
        benchmark.batch = batch
        benchmark.steps = steps
        benchmark.warmup = warmup
        let result = try benchmark.run(backend: try Devices.withBackend(named: backend.description).backend)
        print(json ? try result.jsonString() : result.summary())
    }
}
