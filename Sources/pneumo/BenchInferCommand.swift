import ArgumentParser
import Foundation
import Models
import NN
import Runtime

/// `pneumo bench infer`: latency and throughput of the compiled runtime per batch size.
struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Time the inference runtime per batch size: latency (mean, median, p95, std) and samples/s.")

    @Option(help: "Model name (with --input-size), instead of a file.") var model: String?
    @Option(name: .customLong("input-size"), help: "Input size for --model.") var inputSize = 64
    @Option(help: "Input channels for --model.") var channels = 3
    @Option(help: "Comma-separated batch sizes.") var batch = "1,32,64,256"
    @Option(help: "Timed runs per batch size.") var runs = 50
    @Option(help: "Untimed warm-up runs per batch size.") var warmup = 5
    @Option(help: "Activation layout: channelsLast or blocked.") var layout = "channelsLast"
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false

    var batches: [Int] { batch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !batches.isEmpty, batches.count == batch.split(separator: ",").count, batches.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--batch must be comma-separated positive integers, got '\(batch)'")
        }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be positive and --warmup non-negative") }
        guard PlanLayout(rawValue: layout) != nil else { throw ValidationError("--layout must be channelsLast or blocked") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
        guard model != nil else { throw ValidationError("give --model NAME") }
    }

    func run() throws {
        if let threads { DNNLContext.threadCount = threads }
        let m = try ModelGraph(try ModelZoo.layer(model!, channels: channels), inputShape: [1, channels, inputSize, inputSize])
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [channels, inputSize, inputSize],
                              layout: PlanLayout(rawValue: layout)!)
        var rows: [BenchInferRow] = []
        var rng = SeededRandom(seed: 0)
        for b in batches {
            let plan = try runtime.plan(batch: b)
            let x = Tensor.randomNormal([b, channels, inputSize, inputSize], using: &rng)
            let stats = LatencyStats(try plan.time(x, runs: runs, warmup: warmup))
            rows.append(BenchInferRow(batch: b, latency_ms: stats, samples_per_s: Double(b) / (stats.median / 1000),
                                      per_sample_ms: stats.median / Double(b), planned_bytes: plan.plannedBytes))
        }
        let result = BenchInferResult(model: model!, input_size: inputSize, threads: DNNLContext.threadCount, layout: layout,
                                      precision: "fp32", engine: "pneumo", batches: rows)
        if json { print(try result.jsonString()); return }
        print("\(model!) \(inputSize)×\(inputSize), \(result.threads) threads, \(layout), fp32")
        print("batch   median ms     p95 ms   per sample ms   samples/s   planned MB")
        for r in rows {
            print(String(format: "%5d  %10.3f %10.3f %15.4f %11.1f %12.2f", r.batch, r.latency_ms.median, r.latency_ms.p95,
                         r.per_sample_ms, r.samples_per_s, Double(r.planned_bytes) / 1_048_576))
        }
    }
}

struct BenchInferRow: Encodable {
    let batch: Int
    let latency_ms: LatencyStats
    let samples_per_s: Double
    let per_sample_ms: Double
    let planned_bytes: Int
}

struct BenchInferResult: Encodable {
    let model: String
    let input_size: Int
    let threads: Int
    let layout: String
    let precision: String
    let engine: String
    let batches: [BenchInferRow]
}
