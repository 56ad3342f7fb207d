import ArgumentParser
import GraphCore
import Foundation
import Serving
import Profile
import Runtime

/// `pneumo profile`: compute, memory, latency, throughput, time by operation and a batch sweep.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile a model on the runtime: MACs/FLOPs, parameters, peak memory, latency, throughput, time by operation, batch sweep.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Batch size for batch latency, throughput and memory.") var batch = 32
    @Option(help: "Timed runs.") var runs = 50
    @Option(help: "Untimed warm-up runs.") var warmup = 5
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Comma-separated batch sizes to sweep.") var sweep = "1,8,32,64,128,256"
    @Option(help: "Activation layout: channelsLast or blocked.") var layout = PlanLayout.channelsLast
    @Option(help: ArgumentHelp("fp32 convolutions: auto (the default: as the runtime deploys; timed when compiling), direct (oneDNN's: the unoptimized plan's per-step view), winograd, winograd4x4, streaming (≤ 16 output pixels), depthwise (3×3 depthwise), separable (3×3 depthwise + 1×1 as one step).", valueName: "algorithm"))
    var convolutions = ConvolutionAlgorithm.auto
    @Option(help: ArgumentHelp("How the timed plans use the threads: auto (the default: as the runtime deploys), intra-op, batch-split, single-thread. Per-step times always come from an intra-op plan.", valueName: "mode"))
    var parallelism = PlanParallelism.auto
    @Option(help: "How many of the slowest plan steps to list, at batch 1 and at --batch; JSON has them all (step_ms, batch_step_ms).") var steps = 8
    @Flag(help: "Print JSON.") var json = false

    var sweepSizes: [Int] { CommaList.positiveIntegers(sweep) ?? [] }

    func validate() throws {
        guard batch >= 1, runs >= 1, warmup >= 0 else { throw ValidationError("--batch and --runs must be positive, --warmup non-negative") }
        guard CommaList.positiveIntegers(sweep) != nil else {
            throw ValidationError("--sweep must be comma-separated positive integers, got '\(sweep)'")
        }
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more, got \(steps)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let m = try source.load()
        var options = ModelProfile.Options()
        options.batch = batch; options.runs = runs; options.warmup = warmup; options.sweep = sweepSizes
        options.layout = layout
        options.convolutions = convolutions
        options.parallelism = parallelism
        let p = try ModelProfile.measure(name: m.name, graph: m.graph, parameters: m.parameters, inputName: m.inputName,
                                         sampleShape: m.sampleShape, options: options)
        print(json ? try p.jsonString() : ProfileTable.render(p, steps: steps))
    }
}
