import Data
import Deploy
import GraphCore
import FileSafety
import Foundation
import ClinicalMetrics
import NN
import ONNX
import Profile
import Runtime
import Train

/// `pneumo optimize`: applies a recipe's rewrites to a trained checkpoint, measuring what each step
/// changes (MACs, parameters, and the logits on validation images), fine-tunes when the recipe says so
/// (distilling from the checkpoint's own model when it says `distill`), chooses the operating threshold
/// on val, and writes a checkpoint (carrying the rewritten graph) and an ONNX file (carrying the threshold).
public struct ModelOptimizer {
    public struct StepReport: Codable, Sendable {
        public var rewrite: String
        public var layers_changed: [String]
        public var macs_per_sample: Int
        /// 2 × MACs (`ComputeConvention`).
        public var flops_per_sample: Int?
        public var parameters: Int
        /// Largest logit change on 64 validation images against the previous step, relative to the logit scale.
        public var max_output_change: Double
    }

    /// Whether the fine-tuning distilled, and from what.
    public struct DistillationReport: Codable, Sendable, Equatable {
        public var used: Bool
        public var temperature: Double?
        public var alpha: Double?
        /// The teacher: the source checkpoint's model before the rewrites, in inference mode.
        public var teacher: String?
    }

    public struct Report: Codable, Sendable {
        public var recipe: Recipe
        public var source: String
        public var steps: [StepReport]
        public var fine_tune: TrainingSummary?
        public var distillation: DistillationReport
        public var val_auc: Double
        public var threshold: Double
        public var target_sensitivity: Double
        public var checkpoint: String
        public var onnx: String
    }

    public var backend: any Backend
    public var log: (String) -> Void
    /// The SLA's 98%, which the ONNX file's stored threshold is then scored against.
    public var targetSensitivity = SpecDefaults.targetSensitivity
    public var seed: UInt64 = 42

    public init(backend: any Backend, log: @escaping (String) -> Void) { self.backend = backend; self.log = log }

    public func run(checkpoint url: URL, recipe: Recipe, dataset: MedMNISTDataset, output: URL) throws -> Report {
        try run(checkpoint: url, recipe: recipe, train: try dataset.split(.train), val: try dataset.split(.val), file: dataset.file,
                output: output)
    }

    /// The same on splits at hand; `file` names them in errors.
    public func run(checkpoint url: URL, recipe: Recipe, train: ImageSplit, val: ImageSplit, file: String, output: URL) throws -> Report {
        try recipe.validate()
        let source = try Checkpoint.read(url)
        let d = source.descriptor
        let preprocessing = try Preprocessing(size: d.input_size, channels: d.channels)
        var batches = try DataLoader(val, batchSize: 64, sampling: .sequential, preprocessing: preprocessing).epoch(0)
        guard let probe = batches.next()?.images else { throw EngineError.invalid("optimize", "\(file): the val split is empty") }
        func logits(_ g: Graph, _ p: ParameterStore) throws -> [Float] {
            try InferencePlan(graph: g, parameters: p, inputShape: probe.shape).run(probe).scalars
        }
        var graph = try source.graph(), parameters = source.parameters
        var previous = try logits(graph, parameters)
        var steps: [StepReport] = []
        func record(_ rewrite: String, _ layers: [String], _ graph: Graph, _ parameters: ParameterStore) throws {
            let now = try logits(graph, parameters)
            let scale = Double(previous.map(abs).max() ?? 1)
            let change = Double(zip(previous, now).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-12)
            let compute = try ComputeProfile(graph: graph, parameters: parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
            steps.append(StepReport(rewrite: rewrite, layers_changed: layers, macs_per_sample: compute.macs_per_sample,
                                    flops_per_sample: compute.flops_per_sample, parameters: compute.parameters, max_output_change: change))
            log(String(format: "%@: %d layers changed, %.4f GMACs, %d parameters, logits moved by %.2e of their scale",
                       rewrite, layers.count, Double(compute.macs_per_sample) / 1e9, compute.parameters, change))
            previous = now
        }
        // Post-training quantization is the last step and runs after fine-tuning (`Recipe.validate`).
        let quantization = recipe.steps.last.flatMap { $0.rewrite == "quantize-int8" ? $0 : nil }
        for step in recipe.steps where step.rewrite != "quantize-int8" {
            let r = try Recipe.apply(step, graph, parameters)
            (graph, parameters) = (r.graph, r.parameters)
            try record(step.rewrite, r.layers, graph, parameters)
        }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var result = Checkpoint(descriptor: d, parameters: parameters, info: ["recipe": recipe.name, "source": url.path])
        result.customGraph = graph
        var fineTune: TrainingSummary?
        var distillation = DistillationReport(used: false)
        if let f = recipe.fine_tune, f.epochs > 0 {
            var config = TrainingConfig()
            config.epochs = f.epochs
            config.learningRate = Float(f.learning_rate ?? 1e-4)
            config.seed = seed
            var trainer = Trainer(descriptor: d, config: config, outputDirectory: output.appendingPathComponent("fine_tune"), backend: backend)
            if let k = recipe.distill {
                // The teacher is the model as trained, before any rewrite.
                trainer.distillation = try Distillation(teacher: try source.graph(), parameters: source.parameters,
                                                        temperature: Float(k.temperature), alpha: Float(k.alpha))
                distillation = DistillationReport(used: true, temperature: k.temperature, alpha: k.alpha, teacher: url.path)
                log(String(format: "fine-tuning by distillation from %@ (T %g, alpha %g)", url.lastPathComponent, k.temperature, k.alpha))
            }
            trainer.onEpoch = { r in log(String(format: "fine-tune epoch %d: loss %.4f, val %@", r.epoch, r.train_loss, r.aucText)) }
            let summary = try trainer.run(train: train, val: val, initial: (graph, parameters))
            fineTune = summary
            result = try Checkpoint.read(URL(fileURLWithPath: summary.checkpoint))
            result.info["recipe"] = recipe.name
            result.info["source"] = url.path
            previous = try logits(try result.graph(), result.parameters)
        }
        if let q = quantization {
            let (quantized, changes) = try result.quantizedToInt8(train: train, samples: q.samples ?? 512, file: file, weights: q.int8WeightRange)
            result = quantized
            try record("quantize-int8", changes.map(\.layer), try result.graph(), result.parameters)
        }
        // The operating point, chosen on val.
        let runtime = Runtime(graph: try result.graph(), parameters: result.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
        var scored = try Scoring.scores(runtime, val, preprocessing: preprocessing)
        scored.scores = try result.temperatureScaling().apply(scored.scores)
        guard let threshold = BinaryMetrics.threshold(forSensitivity: targetSensitivity, scores: scored.scores, labels: scored.labels) else {
            throw EngineError.invalid("optimize", "\(file): the val split has no pneumonia cases to choose a threshold on")
        }
        result.info["threshold"] = "\(threshold)"
        let checkpointURL = output.appendingPathComponent("optimized.safetensors")
        try result.write(to: checkpointURL)
        let onnxURL = output.appendingPathComponent("model.onnx")
        try ONNXExporter.write(graph: try result.graph(), parameters: result.parameters, to: onnxURL, dynamicBatch: true,
                               metadata: ["pneumo.model": d.model, "pneumo.recipe": recipe.name, "pneumo.threshold": "\(threshold)"]
                                   .merging(result.info["temperature"].map { ["pneumo.temperature": $0] } ?? [:]) { a, _ in a })
        let report = Report(recipe: recipe, source: url.path, steps: steps, fine_tune: fineTune, distillation: distillation,
                            val_auc: BinaryMetrics.auc(scores: scored.scores, labels: scored.labels) ?? 0, threshold: threshold,
                            target_sensitivity: targetSensitivity, checkpoint: checkpointURL.path, onnx: onnxURL.path)
        try AtomicFile.write(try report.prettyJSON(), to: output.appendingPathComponent("optimize.json"))
        return report
    }
}
