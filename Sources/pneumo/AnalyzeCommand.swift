import Analysis
import ArgumentParser
import GraphCore
import Foundation
import Serving

/// `pneumo analyze`: the spec's optimization analysis, estimated and measured side by side.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Estimate each optimization technique's effect from the model (the spec's rules of thumb), then apply it as a rewrite and measure it.",
        discussion: """
            Techniques: interpolation removal, grouped and depthwise-separable convolutions, inverted residuals (MobileNetV2), \
            low-rank factorization, channel organization (layout, in-place ops), parameter sharing, channel pruning, \
            batch-norm folding, FP16/BF16 weights, batching. Rewrites that change the function are marked as needing \
            (re)training; the others are checked for the size of their output change. Models given by --model have random \
            weights; their batch-norm statistics are drawn at random so that the folding and casting checks are not trivial.
            """)

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Timed batch-1 runs per model (larger batches run fewer times).") var runs = 20
    @Option(help: "Untimed warm-up runs.") var warmup = 3
    @Option(name: .customLong("throughput-batch"), help: "Batch size for throughput.") var throughputBatch = 64
    @Option(help: "Comma-separated batch sizes for the batching analysis.") var batches = "1,8,32,64"
    @Option(help: "Groups for grouped convolutions.") var groups = 2
    @Option(name: .customLong("rank-fraction"), help: "Rank of factorized convolutions, as a fraction of full rank.") var rankFraction = 0.25
    @Option(name: .customLong("prune-fraction"), help: "Fraction of inner block channels to prune.") var pruneFraction = 0.5
    @OptionGroup var calibrate: CalibrationOptions
    @Flag(help: "Print JSON (analysis.json).") var json = false

    var batchSizes: [Int] { CommaList.positiveIntegers(batches) ?? [] }

    func validate() throws {
        guard runs >= 1, warmup >= 0, throughputBatch >= 1 else {
            throw ValidationError("--runs and --throughput-batch must be positive, --warmup non-negative")
        }
        guard CommaList.positiveIntegers(batches) != nil else {
            throw ValidationError("--batches must be comma-separated positive integers, got '\(batches)'")
        }
        guard groups >= 2 else { throw ValidationError("--groups must be at least 2") }
        guard rankFraction > 0, rankFraction <= 1 else { throw ValidationError("--rank-fraction must be in (0, 1]") }
        guard pruneFraction >= 0, pruneFraction < 1 else { throw ValidationError("--prune-fraction must be in [0, 1)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let m = try source.load()
        var options = OptimizationAnalysis.Options()
        options.runs = runs; options.warmup = warmup; options.throughputBatch = throughputBatch; options.batchSizes = batchSizes
        options.groups = groups; options.rankFraction = rankFraction; options.pruneFraction = pruneFraction
        options.randomizeBatchNorm = source.model != nil
        options.progress = { line in FileHandle.standardError.write(Data("analyze: \(line)\n".utf8)) }
        options.calibrationImages = try calibrate.images(sampleShape: m.sampleShape)?.0
        let report = try OptimizationAnalysis.run(name: m.name, graph: m.graph, parameters: m.parameters, inputName: m.inputName,
                                                  sampleShape: m.sampleShape, options: options)
        print(json ? try report.jsonString() : AnalysisTable.render(report))
    }
}
