import ArgumentParser
import CPUBackend
import Foundation
import GraphCore
import Runtime
import Serving

/// `pneumo bench infer`: latency and throughput of the compiled runtime per batch size (`InferenceBenchmark`).
struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Time the inference runtime per batch size: latency (mean, median, p95, std) and samples/s.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Comma-separated batch sizes.") var batch = "1,32,64,256"
    @Option(help: "Timed runs per batch size.") var runs = 50
    @Option(help: "Untimed warm-up runs per batch size.") var warmup = 5
    @Option(help: "Activation layout: channelsLast or blocked.") var layout = PlanLayout.channelsLast
    @Option(help: "Arithmetic: fp32, bf16 (AVX-512 BF16 CPUs), fp16 (weights rounded to IEEE half and kept as half where the streaming kernel reads them; float32 arithmetic) or int8 (see --calibrate, --int8-weights). Default: the model's own (int8 for a quantized model, else fp32).")
    var precision: Precision?
    @Option(name: .customLong("int8-weights"), help: ArgumentHelp("INT8 weight range: 8-bit (needs AVX-512 VNNI or AMX) or 7-bit (exact where u8·s8 pairs add in 16 bits: AVX2, AVX-512 without VNNI). Default: 8-bit with AVX-512 VNNI or AMX, else 7-bit.", valueName: "range"))
    var int8Weights: Int8WeightRange?
    @OptionGroup var calibrate: CalibrationOptions
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("How a call uses the threads: intra-op (each primitive splits its work over the threads), batch-split (one slice of the batch per thread), single-thread, or auto (times intra-op against batch-split, or against single-thread at batch 1, when compiling; keeps the faster).", valueName: "mode"))
    var parallelism = PlanParallelism.auto
    @Option(help: ArgumentHelp("fp32 convolutions: direct (oneDNN), winograd (F(2×2, 3×3) wherever it applies), winograd4x4 (F(4×4, 3×3) wherever it applies), streaming (our weight-streaming kernel for convolutions with at most 16 output pixels), depthwise (our 3×3 depthwise kernel, stride 1 or 2), separable (our kernel for a 3×3 depthwise convolution and the 1×1 one after it, as one step), resize-conv (our kernel for a bilinear resize and the convolution after it, as one convolution on the source image), or auto (streaming, separable, depthwise and resize-conv where they apply; elsewhere times direct and both Winograd variants per shape when compiling and keeps the fastest Winograd where it is ≥20% faster than direct; each family of our kernels a plan took, Winograd at batch 1 only, must make the whole call faster than the same plan without it).", valueName: "algorithm"))
    var convolutions = ConvolutionAlgorithm.auto
    @Option(name: .customLong("agreement-data"), help: ArgumentHelp("A MedMNIST .npz: with a reduced --precision, the fraction of val images whose predicted class equals fp32's.", valueName: "file"))
    var agreementData: String?
    @Flag(name: .customLong("boundary-check"), help: "With --precision int8 and --calibrate: rerun in fp32 each image whose top two int8 logits lie closer than a margin measured on the calibration images (1.5 × the largest change int8 made there to a logit difference), and time on real images (the val images of --agreement-data, else the calibration images).")
    var boundaryCheck = false
    @Flag(name: .customLong("no-fusion"), help: "Compile plans without fusion (activations and residual adds into convolutions, separable pairs, the pool+linear head), to measure what fusion brings.")
    var noFusion = false
    @Flag(name: .customLong("no-peer"), help: "Do not run ONNX Runtime on the --onnx file for comparison.") var noPeer = false
    @Flag(help: "Print JSON.") var json = false

    var batches: [Int] { CommaList.positiveIntegers(batch) ?? [] }

    func validate() throws {
        guard CommaList.positiveIntegers(batch) != nil else {
            throw ValidationError("--batch must be comma-separated positive integers, got '\(batch)'")
        }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be positive and --warmup non-negative") }
        let p = precision ?? .fp32
        if calibrate.file != nil && p != .int8 { throw ValidationError("--calibrate applies to --precision int8 only") }
        if boundaryCheck && (p != .int8 || calibrate.file == nil) {
            throw ValidationError("--boundary-check applies to --precision int8 with --calibrate (its margin is measured on the calibration images)")
        }
        if let reason = Precision.unsupportedReason(p) { throw ValidationError("--precision \(p.rawValue): \(reason)") }
        if let int8Weights {
            // Without --precision a quantized model runs in int8; the option is then checked when the model is loaded.
            if precision != nil && p != .int8 { throw ValidationError("--int8-weights applies to --precision int8 only") }
            if let reason = CPUDevice.unsupportedReason(int8Weights) { throw ValidationError("--int8-weights \(int8Weights.rawValue): \(reason)") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let m = try source.load()
        let p = precision ?? Precision.native(for: m.graph)
        var benchmark = InferenceBenchmark()
        benchmark.batches = batches
        benchmark.runs = runs
        benchmark.warmup = warmup
        benchmark.layout = layout
        benchmark.precision = p
        let images = p == .int8 ? try calibrate.images(sampleShape: m.sampleShape) : nil
        benchmark.calibration = try calibrate.calibration(for: m, images: images)
        benchmark.boundarySamples = boundaryCheck ? images.map { (images: $0.0, source: $0.1) } : nil
        if int8Weights != nil && p != .int8 { throw ValidationError("--int8-weights applies to int8 plans; \(m.name) runs in \(p.rawValue)") }
        benchmark.int8Weights = int8Weights
        benchmark.parallelism = parallelism
        benchmark.convolutions = convolutions
        benchmark.fuse = !noFusion
        benchmark.agreementData = agreementData.map(URL.init(fileURLWithPath:))
        benchmark.peer = peer
        let result = try benchmark.run(m)
        print(json ? try result.jsonString() : result.table(calibratedOnImages: calibrate.file != nil))
    }

    /// ONNX Runtime on the --onnx file, or why it is skipped.
    private var peer: InferenceBenchmark.Peer {
        if noPeer { return .skipped("--no-peer") }
        guard let onnx = source.onnx else { return .skipped("no --onnx file") }
        guard let ort = ONNXRuntimePeer.locate() else { return .skipped("bench/ort_infer.py not found") }
        return .onnxruntime(ort, onnx: onnx)
    }
}
