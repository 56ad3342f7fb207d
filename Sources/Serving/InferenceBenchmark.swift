import ClinicalMetrics
import CPUBackend
import Data
import Foundation
import GraphCore
import Runtime

/// What `pneumo bench infer` measures: latency and throughput of the compiled runtime per batch size, on random
/// inputs, with ONNX Runtime on the same file right after each batch size when it can run (both then see the same
/// machine state), and for a reduced precision, how far it moves the logits from float32.
public struct InferenceBenchmark {
    /// Whether ONNX Runtime runs beside ours, and on which file; or why not (said in the result).
    public enum Peer: Sendable {
        case onnxruntime(ONNXRuntimePeer, onnx: String)
        case skipped(String)
    }

    public var batches = [1, 32, 64, 256]
    /// Timed and untimed runs per batch size.
    public var runs = 50
    public var warmup = 5
    public var layout = PlanLayout.channelsLast
    /// nil: the model's own (`Precision.native`: INT8 for a quantized model, else fp32).
    public var precision: Precision?
    /// The ranges of an INT8 plan of a float model (nil: random inputs, for speed figures only).
    public var calibration: Int8Calibration?
    /// How an INT8 plan stores weights (nil: the range this CPU keeps exact).
    public var int8Weights: Int8WeightRange?
    public var parallelism = PlanParallelism.auto
    public var convolutions = ConvolutionAlgorithm.auto
    /// false: plans without fusion (to measure what it brings).
    public var fuse = true
    /// A MedMNIST `.npz` whose val images measure a reduced precision's top-1 agreement with fp32.
    public var agreementData: URL?
    /// Images (preprocessed, `[N] + sampleShape`) and where they came from, on which an INT8 runtime measures a
    /// `BoundaryCheck`'s margin (nil: no check). A checked runtime is timed on real images (the val images of
    /// `agreementData`, else these), since how many it reruns depends on them.
    public var boundarySamples: (images: Tensor, source: String)?
    public var peer = Peer.skipped("no ONNX file")

    public init() {}

    /// Times `model` at each batch size on `CPUDevice.threadCount` threads.
    public func run(_ model: LoadedModel) throws -> InferenceBenchmarkResult {
        let shape = model.sampleShape
        let p = precision ?? Precision.native(for: model.graph)
        var runtime = Runtime(graph: model.graph, parameters: model.parameters, inputName: model.inputName, sampleShape: shape,
                              layout: layout, precision: p, calibration: calibration, int8Weights: int8Weights, parallelism: parallelism,
                              convolutions: convolutions, fuse: fuse)
        let calibrationSource = try runtime.calibration()?.source
        let reference = Runtime(graph: model.graph, parameters: model.parameters, inputName: model.inputName, sampleShape: shape,
                                layout: layout, precision: .fp32, parallelism: parallelism, convolutions: convolutions, fuse: fuse)
        var check: BoundaryCheck?
        if let boundarySamples {
            guard p == .int8 else { throw EngineError.unsupported("bench infer", "a boundary check applies to int8 plans, not \(p.rawValue)") }
            guard !Int8Quantization.isQuantized(model.graph) else {
                throw EngineError.unsupported("bench infer", "a boundary check compares int8 with the float model, and \(model.name) is quantized already")
            }
            check = try BoundaryCheck.measured(int8: runtime, reference: reference, samples: boundarySamples.images, source: boundarySamples.source)
            runtime = try runtime.checking(check!, reference: reference)
        }
        // The val split, read once: it measures a reduced precision's agreement and, with a check (INT8 only), is what
        // the rows are timed on.
        let val = try agreementData.flatMap { url in p == .fp32 ? nil : try MedMNISTDataset(contentsOf: url).split(.val) }
        let timing = check == nil ? nil : try timingImages(val, shape: shape)
        // The accuracy effect of a reduced precision, measured: the largest logit change against float32.
        var outputChange: Double?
        var agreement: ValAgreement?
        if p != .fp32 {
            var r = SeededRandom(seed: 7)
            let x = Tensor.randomNormal([8] + shape, using: &r)
            let expected = try InferencePlan(graph: model.graph, parameters: model.parameters, inputName: model.inputName, inputShape: x.shape,
                                             precision: .fp32)
                .run(x).scalars
            let reduced = try runtime.plan(batch: 8).run(x).scalars
            let scale = Double(expected.map(abs).max() ?? 1)
            outputChange = Double(zip(expected, reduced).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-12)
            if let val {
                agreement = try Self.agreement(runtime, reference: reference, val: val, shape: shape)
            }
        }
        let first = try runtime.plan(batch: batches.first ?? 1)
        var rows: [InferenceBenchmarkRow] = []
        var rng = SeededRandom(seed: 0)
        var peerEngine: String?, peerSkipped: String?
        if case let .skipped(reason) = peer { peerSkipped = reason }
        for b in batches {
            let plan = try runtime.plan(batch: b)
            var stats: LatencyStats, rechecked: Double?
            if let timing {
                try runtime.prepare(batch: b)
                let t = try Self.time(runtime, on: timing.images, batch: b, runs: runs, warmup: warmup)
                (stats, rechecked) = (LatencyStats(t.milliseconds), t.recheckedFraction)
            } else {
                stats = LatencyStats(try plan.time(.randomNormal([b] + shape, using: &rng), runs: runs, warmup: warmup))
            }
            var row = InferenceBenchmarkRow(batch: b, latency_ms: stats, samples_per_s: Double(b) / (stats.median / 1000),
                                            per_sample_ms: stats.median / Double(b), planned_bytes: plan.plannedBytes,
                                            parallelism: plan.parallelism.rawValue, parallelism_reason: plan.parallelismReason,
                                            convolution_counts: plan.convolutionCounts, boundary_rechecked: rechecked)
            if case let .onnxruntime(ort, onnx) = peer, peerSkipped == nil {
                let (output, skipped) = ort.run(onnx: onnx, batch: b, threads: CPUDevice.threadCount, runs: runs, warmup: warmup)
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
        return InferenceBenchmarkResult(model: model.name, input_shape: shape, threads: CPUDevice.threadCount, layout: layout.rawValue,
                                        precision: p.rawValue, precision_summary: first.precisionSummary, int8_weights: first.int8Weights?.rawValue,
                                        isa: CPUDevice.isaName, calibration: calibrationSource, parallelism: parallelism.rawValue,
                                        convolutions: convolutions.rawValue, engine: "pneumo", max_relative_output_change: outputChange,
                                        top1_agreement_val: agreement?.top1, val_auc_fp32: agreement?.referenceAUC, val_auc: agreement?.auc,
                                        timing_inputs: timing?.source ?? "random normal inputs",
                                        boundary_check: check.map(InferenceBenchmarkResult.BoundaryCheckSummary.init), peer: peerEngine, peer_skipped: peerSkipped, results: rows)
    }

    /// What a checked runtime is timed on: `val` (the val images of `agreementData`), else the boundary samples.
    private func timingImages(_ val: ImageSplit?, shape: [Int]) throws -> (images: Tensor, source: String) {
        guard let split = val, let agreementData else { return boundarySamples! }
        guard split.count > 0 else {
            throw EngineError.invalid("bench infer", "\(agreementData.path) has no val images to time the boundary check on")
        }
        let images = try Preprocessing(size: shape[1], channels: shape[0]).images(split, evenlySpaced: split.count)
        return (images, "\(images.shape[0]) val images of \(agreementData.path)")
    }

    /// Times `runs` calls of `runtime` after `warmup` untimed ones, each on the next `batch` images of `pool` (wrapping
    /// round); returns each call's milliseconds and the fraction of the timed images the boundary check reran.
    static func time(_ runtime: Runtime, on pool: Tensor, batch: Int, runs: Int, warmup: Int) throws
        -> (milliseconds: [Double], recheckedFraction: Double) {
        let n = pool.shape[0]
        let windows = (0..<max(1, (n + batch - 1) / batch)).map { w in pool.rows(at: (0..<batch).map { (w * batch + $0) % n }) }
        for i in 0..<warmup { _ = try runtime.run(windows[i % windows.count]) }
        var rechecked = 0
        let ms = try (0..<runs).map { i in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try runtime.runChecked(windows[i % windows.count])
            let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            rechecked += r.rechecked
            return t
        }
        return (ms, Double(rechecked) / Double(runs * batch))
    }

    /// How `runtime` compares with `reference` on the val images: the fraction of them on which both predict the same
    /// class, and each one's AUC of the positive class (score `logit₁ − logit₀`, monotone in P(class 1); nil unless the
    /// model has two outputs and val both classes).
    public struct ValAgreement: Sendable {
        public var top1: Double
        public var referenceAUC: Double?
        public var auc: Double?
    }

    public static func agreement(_ runtime: Runtime, reference: Runtime, data: URL, shape: [Int]) throws -> ValAgreement {
        try agreement(runtime, reference: reference, val: try MedMNISTDataset(contentsOf: data).split(.val), shape: shape)
    }

    static func agreement(_ runtime: Runtime, reference: Runtime, val split: ImageSplit, shape: [Int]) throws -> ValAgreement {
        let loader = try DataLoader(split, batchSize: 128, sampling: .sequential,
                                    preprocessing: try Preprocessing(size: shape[1], channels: shape[0]))
        var same = 0, total = 0
        var scores: ([Double], [Double]) = ([], []), labels: [Int] = [], classes = 0
        for batch in loader.epoch(0) {
            let (a, b) = (try runtime.run(batch.images).scalars, try reference.run(batch.images).scalars)
            let k = a.count / batch.indices.count
            classes = k
            for r in 0..<batch.indices.count {
                let ra = a[(r * k)..<(r * k + k)], rb = b[(r * k)..<(r * k + k)]
                if ra.firstIndex(of: ra.max()!)! - r * k == rb.firstIndex(of: rb.max()!)! - r * k { same += 1 }
                total += 1
                if k == 2 {
                    scores.0.append(Double(ra[r * k + 1] - ra[r * k]))
                    scores.1.append(Double(rb[r * k + 1] - rb[r * k]))
                }
            }
            labels += batch.labels.scalars.map { Int($0) }
        }
        let aucs = classes == 2 ? (BinaryMetrics.auc(scores: scores.0, labels: labels), BinaryMetrics.auc(scores: scores.1, labels: labels)) : (nil, nil)
        return ValAgreement(top1: Double(same) / Double(max(total, 1)), referenceAUC: aucs.1, auc: aucs.0)
    }
}
