import ArgumentParser
import Foundation
import NN

/// Our convolution forward against oneDNN alone on the same shape (the engine's per-call overhead).
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv", abstract: "Time one convolution forward through the engine and through oneDNN alone.")

    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Input and output channels.") var channels = 64
    @Option(help: "Height and width.") var size = 16
    @Option(help: "Kernel size.") var kernel = 3
    @Option(help: "Timed runs.") var runs = 50
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard batch > 0, channels > 0, size >= kernel, kernel > 0, runs > 0 else {
            throw ValidationError("--batch, --channels, --kernel and --runs must be positive and --size at least --kernel")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        if let threads { DNNLContext.threadCount = threads }
        var rng = SeededRandom(seed: 0)
        let x = Tensor.randomNormal([batch, channels, size, size], using: &rng)
        let w = Tensor.randomNormal([channels, channels, kernel, kernel], std: 0.05, using: &rng)
        let r = try DNNLConvBenchmark.run(x: x, weight: w, bias: nil, Conv2dAttributes(padding: Pair(kernel / 2)), runs: runs)
        if json { print(try r.jsonString()); return }
        print("""
            conv \(kernel)×\(kernel), N\(batch) C=K=\(channels) \(size)×\(size), \(DNNLContext.threadCount) threads (\(r.implementation))
              engine   \(String(format: "%.3f", r.ours_ms)) ms median (\(String(format: "%.1f", r.gflops_per_s)) GFLOP/s)
              oneDNN   \(String(format: "%.3f", r.onednn_ms)) ms median (primitive, weights and memory prepared once)
              engine speed = \(String(format: "%.0f", r.speed_ratio * 100))% of oneDNN's
            """)
    }
}
