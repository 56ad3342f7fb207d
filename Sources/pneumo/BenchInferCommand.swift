import CPUBackend
import ArgumentParser
import Data
import Foundation
import Models
import NN
import Runtime

/// `pneumo bench infer`: latency and throughput of the compiled runtime per batch size.
struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Time the inference runtime per batch size: latency (mean, median, p95, std) and samples/s.")

    @OptionGroup var source: ModelSource
    @Option(help: "Comma-separated batch sizes.") var batch = "1,32,64,256"
    @Option(help: "Timed runs per batch size.") var runs = 50
    @Option(help: "Untimed warm-up runs per batch size.") var warmup = 5
    @Option(help: "Activation layout: channelsLast or blocked.") var layout = "channelsLast"
    @Option(help: "Arithmetic: fp32, bf16 (AVX-512 BF16 CPUs) or int8 (VNNI where present; see --calibrate). Default: the model's own (int8 for a quantized model, else fp32).")
    var precision: String?
    @OptionGroup var calibrate: CalibrationOptions
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("How a call uses the threads: intra-op (each primitive splits its work over the threads), batch-split (one slice of the batch per thread), single-thread, or auto (times intra-op against batch-split, or against single-thread at batch 1, when compiling; keeps the faster).", valueName: "mode"))
    var parallelism = PlanParallelism.auto.rawValue
    @Option(help: ArgumentHelp("fp32 convolutions: direct (oneDNN), winograd (F(2×2, 3×3) wherever it applies), winograd4x4 (F(4×4, 3×3) wherever it applies), streaming (our weight-streaming kernel for convolutions with at most 16 output pixels), depthwise (our 3×3 depthwise kernel, stride 1 or 2), separable (our kernel for a 3×3 depthwise convolution and the 1×1 one after it, as one step), or auto (streaming, separable and depthwise where they apply; elsewhere times direct and both Winograd variants per shape when compiling and keeps the fastest Winograd where it is ≥20% faster than direct; each family of our kernels a plan took, Winograd at batch 1 only, must make the whole call faster than the same plan without it).", valueName: "algorithm"))
    var convolutions = ConvolutionAlgorithm.auto.rawValue
    @Option(name: .customLong("agreement-data"), help: ArgumentHelp("A MedMNIST .npz: with a reduced --precision, the fraction of val images whose predicted class equals fp32's.", valueName: "file"))
    var agreementData: String?
    @Flag(name: .customLong("no-peer"), help: "Do not run ONNX Runtime on the --onnx file for comparison.") var noPeer = false
    @Flag(help: "Print JSON.") var json = false

    var batches: [Int] { CommaList.positiveIntegers(batch) ?? [] }

    func validate() throws {
        guard CommaList.positiveIntegers(batch) != nil else {
            throw ValidationError("--batch must be comma-separated positive integers, got '\(batch)'")
        }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be positive and --warmup non-negative") }
        guard PlanLayout(rawValue: layout) != nil else { throw ValidationError("--layout must be channelsLast or blocked") }
        guard let p = precision.map({ Precision(rawValue: $0) }) ?? .fp32 else {
            throw ValidationError("--precision must be fp32, bf16 or int8, got \(precision!)")
        }
        if calibrate.file != nil && p != .int8 { throw ValidationError("--calibrate applies to --precision int8 only") }
        if let reason = Precision.unsupportedReason(p) { throw ValidationError("--precision \(p.rawValue): \(reason)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
        do { _ = try PlanParallelism(option: parallelism) } catch let e as EngineError { throw ValidationError("--\(e.message)") }
        do { _ = try ConvolutionAlgorithm(option: convolutions) } catch let e as EngineError { throw ValidationError("--\(e.message)") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let m = try source.load()
        let shape = m.sampleShape
        let p = precision.flatMap(Precision.init(rawValue:)) ?? Precision.native(for: m.graph)
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, inputName: m.inputName, sampleShape: shape,
                              layout: PlanLayout(rawValue: layout)!, precision: p, calibration: try calibrate.calibration(for: m, precision: p),
                              parallelism: try PlanParallelism(option: parallelism),
                              convolutions: try ConvolutionAlgorithm(option: convolutions))
        let calibrationSource = try runtime.calibration()?.source
        // The accuracy effect of a reduced precision, measured: the largest logit change against float32.
        var outputChange: Double?
        var top1Agreement: Double?
        if p != .fp32 {
            var r = SeededRandom(seed: 7)
            let x = Tensor.randomNormal([8] + shape, using: &r)
            let reference = try InferencePlan(graph: m.graph, parameters: m.parameters, inputName: m.inputName, inputShape: x.shape,
                                              precision: .fp32)
                .run(x).scalars
            let reduced = try runtime.plan(batch: 8).run(x).scalars
            let scale = Double(reference.map(abs).max() ?? 1)
            outputChange = Double(zip(reference, reduced).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-12)
            if let agreementData {
                top1Agreement = try Self.top1Agreement(runtime, reference: Runtime(graph: m.graph, parameters: m.parameters,
                                                                                  inputName: m.inputName, sampleShape: shape, precision: .fp32),
                                                       data: agreementData, shape: shape)
            }
        }
        var rows: [BenchInferRow] = []
        var rng = SeededRandom(seed: 0)
        // The peer runs right after each of our batch sizes, so both see the same machine state.
        let peer = noPeer ? nil : source.onnx.flatMap { _ in ONNXRuntimePeer.locate() }
        var peerEngine: String?, peerSkipped: String? = noPeer ? "--no-peer" : source.onnx == nil ? "no --onnx file" : peer == nil ? "bench/ort_infer.py not found" : nil
        for b in batches {
            let plan = try runtime.plan(batch: b)
            let x = Tensor.randomNormal([b] + shape, using: &rng)
            let stats = LatencyStats(try plan.time(x, runs: runs, warmup: warmup))
            var row = BenchInferRow(batch: b, latency_ms: stats, samples_per_s: Double(b) / (stats.median / 1000),
                                    per_sample_ms: stats.median / Double(b), planned_bytes: plan.plannedBytes,
                                    parallelism: plan.parallelism.rawValue, parallelism_reason: plan.parallelismReason,
                                    convolution_counts: plan.convolutionCounts)
            if let peer, peerSkipped == nil {
                let (output, skipped) = peer.run(onnx: source.onnx!, batch: b, threads: CPUDevice.threadCount, runs: runs, warmup: warmup)
                if let r = output?.batches.first {
                    peerEngine = output?.engine
                    row.onnxruntime = r
                    row.throughput_ratio = row.samples_per_s / r.samples_per_s
                    row.latency_ratio = stats.median / r.latency_ms.median
                } else {
                    peerSkipped = skipped
                }
            }
            rows.append(row)
        }
        let result = BenchInferResult(model: m.name, input_shape: shape, threads: CPUDevice.threadCount, layout: layout,
                                      precision: p.rawValue, calibration: calibrationSource, parallelism: parallelism, convolutions: convolutions, engine: "pneumo",
                                      max_relative_output_change: outputChange,
                                      top1_agreement_val: top1Agreement,
                                      peer: peerEngine, peer_skipped: peerSkipped, results: rows)
        if json { print(try result.jsonString()); return }
        print("\(m.name) \(shape.map(String.init).joined(separator: "×")), \(result.threads) threads, \(layout), \(result.precision)"
              + (outputChange.map { String(format: " (largest logit change vs fp32: %.2e of the logit scale)", $0) } ?? ""))
        print("batch   median ms     p95 ms   per sample ms   samples/s   planned MB" + (peerEngine == nil ? "" : "   ORT median ms   ORT samples/s   ours/ORT latency   ours/ORT throughput")
              + "   plan")
        for r in rows {
            var line = String(format: "%5d  %10.3f %10.3f %15.4f %11.1f %12.2f", r.batch, r.latency_ms.median, r.latency_ms.p95,
                              r.per_sample_ms, r.samples_per_s, Double(r.planned_bytes) / 1_048_576)
            if let o = r.onnxruntime, let lr = r.latency_ratio, let tr = r.throughput_ratio {
                line += String(format: " %15.3f %15.1f %18.2f× %20.2f×", o.latency_ms.median, o.samples_per_s, lr, tr)
            }
            print(line + "   " + r.parallelism + r.convolution_counts.benchSummary)
        }
        for r in rows where parallelism == PlanParallelism.auto.rawValue && r.batch > 1 { print("batch \(r.batch): \(r.parallelism_reason)") }
        if let peerEngine { print("peer: \(peerEngine), same file, same thread count, run right after ours for each batch size") }
        if let peerSkipped { print("peer skipped: \(peerSkipped)") }
        if let calibrationSource { print("int8 calibration: \(calibrationSource)" + (calibrate.file == nil ? " (speed figures only; --calibrate FILE.npz for accuracy)" : "")) }
        if let top1Agreement { print(String(format: "top-1 agreement with fp32 on the val images: %.2f%%", top1Agreement * 100)) }
    }
}

struct BenchInferRow: Encodable {
    let batch: Int
    let latency_ms: LatencyStats
    let samples_per_s: Double
    let per_sample_ms: Double
    let planned_bytes: Int
    /// How the plan ran (intra-op or batch-split) and why (requested, or what `auto` measured).
    let parallelism: String
    let parallelism_reason: String
    /// Convolution steps on each of our kernel families (`winograd_convolutions`, `winograd_f4x4_convolutions`,
    /// `streaming_convolutions`, …: one key per `KernelFamily` count) and of all (`convolutions`), at the row's top level.
    let convolution_counts: ConvolutionCounts
    /// ONNX Runtime on the same file at this batch size, and our median latency / theirs and our throughput / theirs.
    var onnxruntime: ONNXRuntimePeer.Row?
    var latency_ratio: Double?
    var throughput_ratio: Double?

    private enum CodingKeys: String, CodingKey {
        case batch, latency_ms, samples_per_s, per_sample_ms, planned_bytes, parallelism, parallelism_reason, onnxruntime, latency_ratio,
             throughput_ratio
    }

    /// The counts' keys go beside the others (the row's JSON keys predate `ConvolutionCounts`).
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encode(latency_ms, forKey: .latency_ms)
        try c.encode(samples_per_s, forKey: .samples_per_s)
        try c.encode(per_sample_ms, forKey: .per_sample_ms)
        try c.encode(planned_bytes, forKey: .planned_bytes)
        try c.encode(parallelism, forKey: .parallelism)
        try c.encode(parallelism_reason, forKey: .parallelism_reason)
        try c.encodeIfPresent(onnxruntime, forKey: .onnxruntime)
        try c.encodeIfPresent(latency_ratio, forKey: .latency_ratio)
        try c.encodeIfPresent(throughput_ratio, forKey: .throughput_ratio)
        try convolution_counts.encode(to: encoder)
    }
}

struct BenchInferResult: Encodable {
    let model: String
    let input_shape: [Int]
    let threads: Int
    let layout: String
    let precision: String
    /// INT8 only: what the activation ranges were measured on.
    let calibration: String?
    /// The --parallelism asked for (each row says what ran).
    let parallelism: String
    /// The --convolutions asked for (each row counts its Winograd convolutions).
    let convolutions: String
    let engine: String
    let max_relative_output_change: Double?
    /// With `--agreement-data`: the fraction of val images on which the reduced precision predicts fp32's class.
    let top1_agreement_val: Double?
    let peer: String?
    let peer_skipped: String?
    let results: [BenchInferRow]
}

extension BenchInferCommand {
    /// The fraction of val images on which `runtime` and `reference` predict the same class.
    static func top1Agreement(_ runtime: Runtime, reference: Runtime, data: String, shape: [Int]) throws -> Double {
        let split = try MedMNISTDataset(contentsOf: URL(fileURLWithPath: data)).split(.val)
        let loader = try DataLoader(split, batchSize: 128, sampling: .sequential,
                                    preprocessing: try Preprocessing(size: shape[1], channels: shape[0]))
        var same = 0, total = 0
        for batch in loader.epoch(0) {
            let (a, b) = (try runtime.run(batch.images).scalars, try reference.run(batch.images).scalars)
            let k = a.count / batch.indices.count
            for r in 0..<batch.indices.count {
                let ra = a[(r * k)..<(r * k + k)], rb = b[(r * k)..<(r * k + k)]
                if ra.firstIndex(of: ra.max()!)! - r * k == rb.firstIndex(of: rb.max()!)! - r * k { same += 1 }
                total += 1
            }
        }
        return Double(same) / Double(max(total, 1))
    }
}
