import ArgumentParser
import Data
import GraphCore
import Foundation
import Serving
import Profile
import Runtime

/// `pneumo profile`: compute, memory, latency, throughput, time by operation and a batch sweep.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile a model on the runtime: MACs/FLOPs, parameters, peak memory, latency, throughput, time by operation, batch sweep.",
        discussion: """
            As the spec's profiler: 100 timed runs after 10 warm-ups, at batch 1 and at --batch, on the first --batch \
            val images (its get_sample_batch), from --data or the cached PneumoniaMNIST download of the model's size; \
            with neither, on random normal inputs (nothing is downloaded), and the output says so. GFLOPs are the \
            spec's (1 MAC = 1 FLOP, as thop counts): gflops_per_sample = macs_per_sample / 1e9, the figure sla reports; \
            flops_per_sample counts 2 per MAC.
            """)

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Batch size for batch latency, throughput and memory (the spec's sample batch: 32).") var batch = 32
    @Option(help: "Timed runs (the spec's 100).") var runs = ModelProfile.specRuns
    @Option(help: "Untimed warm-up runs (the spec's 10).") var warmup = ModelProfile.specWarmup
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Comma-separated batch sizes to sweep.") var sweep = "1,8,32,64,128,256"
    @Option(help: "Activation layout: channelsLast or blocked.") var layout = PlanLayout.channelsLast
    @Option(help: ArgumentHelp("fp32 convolutions: auto (the default: as the runtime deploys; timed when compiling), direct (oneDNN's: the unoptimized plan's per-step view), winograd, winograd4x4, streaming (≤ 16 output pixels), depthwise (3×3 depthwise), separable (3×3 depthwise + 1×1 as one step), resize-conv (bilinear resize + the convolution after it, as one step).", valueName: "algorithm"))
    var convolutions = ConvolutionAlgorithm.auto
    @Option(help: ArgumentHelp("How the timed plans use the threads: auto (the default: as the runtime deploys), intra-op, batch-split, single-thread. Per-step times always come from an intra-op plan.", valueName: "mode"))
    var parallelism = PlanParallelism.auto
    @Option(help: "Arithmetic of the timed plans: fp32, bf16 (AVX-512 BF16 CPUs), fp16 (weights rounded to IEEE half; float32 arithmetic) or int8 (see --calibrate). Default: the model's own (int8 for a quantized model, else fp32), as a deployed runtime.")
    var precision: Precision?
    @OptionGroup var calibrate: CalibrationOptions
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
        if calibrate.file != nil && precision != .int8 { throw ValidationError("--calibrate applies to --precision int8 only") }
        if let precision, let reason = Precision.unsupportedReason(precision) {
            throw ValidationError("--precision \(precision.rawValue): \(reason)")
        }
    }

    func run() throws {
        let p = try profile()
        print(json ? try p.jsonString() : ProfileTable.render(p, steps: steps))
    }

    /// The profile `run` prints.
    func profile() throws -> ModelProfile {
        ThreadCount.apply(threads)
        let m = try source.load()
        var options = ModelProfile.Options()
        options.batch = batch; options.runs = runs; options.warmup = warmup; options.sweep = sweepSizes
        options.layout = layout
        options.convolutions = convolutions
        options.parallelism = parallelism
        options.precision = precision
        options.calibration = try calibrate.calibration(for: m, precision: precision ?? Precision.native(for: m.graph))
        options.sample = try sample(for: m.sampleShape)
        options.progress = { FileHandle.standardError.write(Data("profile: \($0)\n".utf8)) }
        return try ModelProfile.measure(name: m.name, graph: m.graph, parameters: m.parameters, inputName: m.inputName,
                                        sampleShape: m.sampleShape, options: options)
    }

    /// The spec's sample batch: the first --batch val images, preprocessed for the model; nil without data.
    func sample(for shape: [Int]) throws -> ProfileSample? {
        guard shape.count == 3, let file = try dataset.openIfPresent(preferredSize: shape[1]) else { return nil }
        guard file.availableSplits.contains(.val), case let val = try file.split(.val), val.count > 0 else {
            throw ValidationError("\(file.file) has no val images to take the profiling batch from (the spec's sample batch is val's)")
        }
        let n = min(batch, val.count)
        let images = try Preprocessing(size: shape[1], channels: shape[0]).images(val, indices: Array(0..<n))
        return try ProfileSample(images: images, source: "the first \(n) val images of \(file.file)")
    }
}
