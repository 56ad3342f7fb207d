import Analysis
import Data
import Deploy
import GraphCore
import FileSafety
import Foundation
import ClinicalMetrics
import Models
import NN
import ONNX
import Profile
import Report
import Runtime
import Train

/// The whole job in one call: data → baseline (train, evaluate, profile, analyse) → optimized model
/// (train, choose the operating threshold on val, export ONNX) → SLA scorecards of both ONNX files on
/// our runtime → the visual report. Every result lands in `output` under the names `Report` reads.
public struct Pipeline {
    public struct Options: Sendable {
        public var baselineModel = "baseline"
        public var baselineEpochs = 10
        public var optimizedModel = "pneumonet"
        public var optimizedChannels = 1
        /// Epochs of the optimized model; nil: its recipe's.
        public var optimizedEpochs: Int?
        /// The baseline's recipe: the spec's TRAINING_CONFIG, as the spec trains it.
        public var baselineTraining = TrainingRecipe.spec.apply(to: TrainingConfig())
        /// The optimized model's recipe: the one cross-validation preferred (`TrainingRecipe.default`).
        public var training = TrainingRecipe.default.apply(to: TrainingConfig())
        /// Use only the first N training images (quick runs); nil for all.
        public var trainSubset: Int?
        /// The spec's `subset_size`: N images in all, 70/15/15% drawn from train/val/test, stratified; nil for all.
        public var subset: DataSubset?
        /// The SLA's sensitivity, shown on val with 95% confidence by default (`thresholdRule`).
        public var targetSensitivity = SpecDefaults.targetSensitivity
        public var thresholdRule = ThresholdRule.wilsonLowerBound
        /// Teachers of the optimized model: this many models of its own architecture and recipe (seeds + 1, + 2, …)
        /// are trained first, and the optimized model learns from their mean softmax (`Distillation`); 0 trains it alone.
        public var teachers = 3
        public var distillTemperature: Float = 4
        public var distillAlpha: Float = 0.7
        /// The spec's profiling: 100 timed runs after 10 warm-ups, on a batch of val images.
        public var profileRuns = ModelProfile.specRuns
        public var profileWarmup = ModelProfile.specWarmup
        public var slaRuns = 200
        /// Batch sizes the SLA's throughput is measured at (the best is reported); small ones keep tests quick.
        public var slaSweep = [64, 128, 256]
        public var sweep = [1, 8, 32, 64, 128, 256]
        /// Start over in a folder that holds a run (by default `run` continues it, and refuses other settings).
        public var restart = false
        public init() {}

        /// `pipeline --quick`: fewer timing runs, and the profile's and the SLA's sweeps cut to a few batch sizes
        /// (compiling and timing the baseline at 128 and 256 was much of a small job: `bench/README.md`, "A quick
        /// pipeline's time").
        public mutating func quicken() {
            profileRuns = 10; profileWarmup = 3; slaRuns = 30; sweep = [1, 8, 64]; slaSweep = [64]
        }
    }

    public var options: Options
    public var output: URL
    public var backend: any Backend
    /// Progress lines for a person (stderr in the CLI).
    public var log: @Sendable (String) -> Void
    /// Asked after every training epoch and before every stage: true stops the run there (`TrainingStopped`,
    /// `PipelineStopped`); running it again continues it.
    public var stopRequested: @Sendable () -> Bool = { false }

    public init(options: Options, output: URL, backend: any Backend, log: @escaping @Sendable (String) -> Void) {
        self.options = options; self.output = output; self.backend = backend; self.log = log
    }

    func write(_ value: some Encodable, _ name: String) throws {
        try AtomicFile.write(try value.prettyJSON(), to: output.appendingPathComponent(name))
    }

    /// `start`: when loading began (before the file was opened or downloaded), for the data-loading time.
    public func run(dataset: MedMNISTDataset, since start: ContinuousClock.Instant = .now) throws
        -> (baseline: SLAScorecard, optimized: SLAScorecard, report: URL) {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let data = try LoadedSplits.load(dataset, splits: Split.allCases, subset: options.subset, since: start)
        var train = try data.split(.train)
        let val = try data.split(.val)
        if let n = options.trainSubset, n < train.count { train = try train.prefix(n) }
        // Every model's threshold is chosen on val: a val split too small for the rule stops the run before training.
        if let why = options.thresholdRule.shortfall(forSensitivity: options.targetSensitivity,
                                                     positives: val.labels.count(where: { $0 == 1 }), split: "val") {
            throw TrainingError("\(data.file): " + why)
        }
        let (reportSplit, splitNote) = SpecDefaults.evaluationSplit(available: data.availableSplits)
        // Where this run departs from the spec's defaults because of the data, said once here and in the files.
        let dataNotes = [SpecDefaults.imageSizeNote(fileSize: train.height), splitNote].compactMap { $0 } + data.notes
        log(data.summary + "; evaluation and scorecards on \(reportSplit.rawValue)")
        for note in dataNotes + [options.thresholdRule.specDifference].compactMap({ $0 }) { log("note: " + note) }
        let progress = try PipelineProgress(directory: output, settings: settings(file: data.file, train: train, val: val),
                                            restart: options.restart, log: log)
        progress.stopRequested = stopRequested
        let clock = try startClock(train: train)

        // 1. Data exploration (quick: always redone).
        let report = try DatasetReport(file: data.file, task: dataset.task, splits: data.splits)
        var loading = data.report
        loading.notes = dataNotes
        try AtomicFile.write(Data(report.json(loading: loading).utf8), to: output.appendingPathComponent("data.json"))
        try SampleGrid.write(train, indices: SampleGrid.choose(from: train, count: 16), classNames: dataset.task.classNames,
                             to: output.appendingPathComponent("samples.svg"), title: "\(dataset.task.name) training samples")

        // 2. The baseline: trained with the spec's recipe, evaluated, profiled.
        let baseline = try trainModel(options.baselineModel, channels: 3, epochs: options.baselineEpochs, config: options.baselineTraining,
                                      train: train, val: val, directory: "baseline", stage: "baseline", progress: progress, clock: clock)
        try FileManager.default.copyItem(atPath: output.appendingPathComponent("baseline/history.json").path,
                                         toPath: output.appendingPathComponent("history.json").path, replacing: true)
        let evalNotes = [splitNote, options.thresholdRule.specDifference].compactMap { $0 }
        /// The spec's clinical evaluation of `checkpoint` on the report split, saying where it departs from the spec.
        func evaluate(_ checkpoint: Checkpoint, batchSize: Int) throws -> ClinicalEvaluation {
            var e = try ClinicalEvaluation.run(checkpoint: checkpoint, dataset: data, split: reportSplit, thresholds: SpecDefaults.thresholds,
                                               targetSensitivity: options.targetSensitivity, rule: options.thresholdRule, batchSize: batchSize,
                                               backend: backend)
            e.spec_differences = evalNotes
            return e
        }
        let baselineEval = try progress.stage("eval.json", in: output) { try evaluate(baseline, batchSize: 128) }
        log(String(format: "baseline: %@ AUC %.4f", reportSplit.rawValue, baselineEval.auc))
        _ = try progress.stage("profile_baseline.json", in: output) { try profile(baseline, val: val, file: data.file) }
        let log = self.log
        _ = try progress.stage("analysis.json", in: output) {
            var analysisOptions = OptimizationAnalysis.Options()
            analysisOptions.runs = max(options.profileRuns / 5, 5)
            analysisOptions.progress = { @Sendable in log("analysis: \($0)") }
            // INT8 calibrates on training images (evenly spaced), never on the split thresholds are chosen on.
            let baselineShape = Array(baseline.descriptor.inputShape(batch: 1).dropFirst())
            analysisOptions.calibrationImages = try Preprocessing(size: baselineShape[1], channels: baselineShape[0])
                .images(train, evenlySpaced: 256)
            return try OptimizationAnalysis.run(name: baseline.descriptor.model, graph: try baseline.graph(),
                                                parameters: baseline.parameters, sampleShape: baselineShape, options: analysisOptions)
        }

        // 3. The optimized model.
        var teacherConfig = options.training
        if let epochs = options.optimizedEpochs { teacherConfig.epochs = epochs }
        let name = options.optimizedModel
        let teacherSeed = teacherConfig.seed
        if options.teachers > 0 { try progress.checkStop(before: "teachers") }
        let teachersStarted = DispatchTime.now().uptimeNanoseconds
        let distillation = options.teachers == 0 ? nil : try Distillation.trainingEnsemble(
            of: ModelDescriptor(model: name, inputSize: train.height, channels: options.optimizedChannels), config: teacherConfig,
            count: options.teachers, train: train, val: val, directory: { output.appendingPathComponent("optimized_teacher_\($0)") },
            temperature: options.distillTemperature, alpha: options.distillAlpha, backend: backend,
            resume: progress.resuming) { trainer in
                let seed = trainer.config.seed
                let stage = "\(name) teacher \(seed &- teacherSeed)"
                trainer.onEpoch = { r in log(String(format: "%@ teacher (seed %llu) epoch %d: loss %.4f, val %@", name, seed, r.epoch, r.train_loss, r.aucText)) }
                trainer.onPace = { clock.paced(stage, $0) }
                trainer.stopRequested = stopRequested
            }
        if distillation != nil { try progress.finish("teachers", since: teachersStarted) }
        var optimized = try trainModel(options.optimizedModel, channels: options.optimizedChannels, epochs: options.optimizedEpochs,
                                       config: options.training, train: train, val: val, directory: "optimized", distillation: distillation,
                                       stage: name, progress: progress, clock: clock)
        let optimizedEval = try progress.stage("eval_optimized.json", in: output) { [optimized] in try evaluate(optimized, batchSize: 256) }
        // Is the optimized model's AUC different from the baseline's on the same images? DeLong's paired test.
        let comparison = try progress.stage("comparison.json", in: output) {
            try ModelComparison.run(("baseline", baseline), ("optimized", optimized), dataset: data, split: reportSplit,
                                    batchSize: 128, backend: backend)
        }
        log(comparison.table())
        if let t = optimizedEval.target?.threshold { optimized.info["threshold"] = "\(t)" }
        try optimized.write(to: output.appendingPathComponent("optimized/best.safetensors"))
        _ = try progress.stage("profile_optimized.json", in: output) { try profile(optimized, val: val, file: data.file) }

        // 4. Deployment: ONNX files, scored on our runtime.
        let baselineCard = try progress.stage("sla_baseline.json", in: output) {
            try exportAndScore(baseline, name: "baseline", dataset: data, split: reportSplit, splitNote: splitNote)
        }
        let optimizedCard = try progress.stage("sla_optimized.json", in: output) {
            try exportAndScore(optimized, name: "optimized", dataset: data, split: reportSplit, splitNote: splitNote)
        }
        try write(optimizedCard, "sla.json")   // the deployed model's scorecard
        // Beside it, the same model quantized to INT8 after training (calibrated on training images), scored the same way.
        _ = try progress.stage("sla_optimized_int8.json", in: output) {
            let (int8, changes) = try optimized.quantizedToInt8(train: train, samples: 512, file: dataset.file)
            log("optimized: INT8 quantized (\(changes.count) convolutions, \(int8.info["quantization"]!))")
            return try exportAndScore(int8, name: "optimized_int8", dataset: data, split: reportSplit, splitNote: splitNote)
        }

        // 5. One file with every result, and the report.
        try RunResults.write(in: output, options: options, state: progress.state)
        let written = try RunReport.write(runDirectory: output, to: nil)
        log("report: \(written.html.path)")
        return (baselineCard, optimizedCard, written.html)
    }

    /// Without a dataset: what needs no data, on freshly initialised weights — both models profiled,
    /// the baseline analysed, both exported to ONNX and benchmarked. Returns what was skipped and why.
    public func runWithoutData(inputSize: Int) throws -> [String] {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for (name, model, channels) in [("baseline", options.baselineModel, 3), ("optimized", options.optimizedModel, options.optimizedChannels)] {
            let d = ModelDescriptor(model: model, inputSize: inputSize, channels: channels)
            let m = try d.graph(seed: options.training.seed)
            let checkpoint = Checkpoint(descriptor: d, parameters: m.parameters, info: ["weights": "initialised, not trained"])
            try write(try profile(checkpoint), "profile_\(name).json")
            try ONNXExporter.write(graph: m.graph, parameters: m.parameters, to: output.appendingPathComponent("\(name).onnx"),
                                   dynamicBatch: true, metadata: ["pneumo.model": model, "pneumo.weights": "initialised"])
            if name == "baseline" {
                var o = OptimizationAnalysis.Options()
                o.runs = max(options.profileRuns / 5, 5)
                o.randomizeBatchNorm = true
                try write(try OptimizationAnalysis.run(name: model, graph: m.graph, parameters: m.parameters,
                                                       sampleShape: Array(d.inputShape(batch: 1).dropFirst()), options: o), "analysis.json")
            }
        }
        try RunResults.write(in: output, options: options, state: nil)
        let written = try RunReport.write(runDirectory: output, to: nil)
        log("report: \(written.html.path)")
        return ["data exploration", "training", "clinical evaluation", "threshold selection", "SLA sensitivity (and so the scorecards)"]
    }

    func trainModel(_ name: String, channels: Int, epochs: Int?, config recipe: TrainingConfig, train: ImageSplit, val: ImageSplit,
                    directory: String, distillation: Distillation? = nil, stage: String, progress: PipelineProgress,
                    clock: JobClock) throws -> Checkpoint {
        var config = recipe
        config.seed = options.training.seed
        if let epochs { config.epochs = epochs }
        let descriptor = ModelDescriptor(model: name, inputSize: train.height, channels: channels)
        let folder = output.appendingPathComponent(directory)
        var trainer = Trainer(descriptor: descriptor, config: config, outputDirectory: folder, backend: backend)
        trainer.distillation = distillation
        if distillation != nil { log("\(name): distilled from the mean softmax of \(distillation!.members.count) teachers") }
        trainer.onEpoch = { r in
            log(String(format: "%@ epoch %d: loss %.4f, val %@ (%.1f s)", stage, r.epoch, r.train_loss, r.aucText, r.seconds))
        }
        trainer.onPace = { clock.paced(stage, $0) }
        trainer.stopRequested = stopRequested
        try progress.checkStop(before: directory)
        // A stage killed before its first last.safetensors starts over; one with it continues from its last epoch.
        let started = DispatchTime.now().uptimeNanoseconds
        let summary = try trainer.run(train: train, val: val, resume: progress.resuming && Trainer.hasLastCheckpoint(in: folder))
        try progress.finish(directory, since: started)
        log(String(format: "%@: best val %@ at epoch %d", stage, summary.bestText, summary.best_epoch))
        return try Checkpoint.read(URL(fileURLWithPath: summary.checkpoint))
    }

    /// What a run's results depend on: a folder is only continued with the same (`PipelineProgress`).
    func settings(file: String, train: ImageSplit, val: ImageSplit) throws -> [String: String] {
        func json(_ value: some Encodable) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        let o = options
        return [
            "data": "\(URL(fileURLWithPath: file).lastPathComponent): \(train.count) train, \(val.count) val at \(train.height) px"
                + (o.subset.map { ", subset \($0)" } ?? ""),
            "baseline_model": o.baselineModel, "baseline_epochs": "\(o.baselineEpochs)", "baseline_training": try json(o.baselineTraining),
            "optimized_model": o.optimizedModel, "optimized_channels": "\(o.optimizedChannels)",
            "optimized_epochs": o.optimizedEpochs.map { "\($0)" } ?? "recipe", "training": try json(o.training),
            "target_sensitivity": "\(o.targetSensitivity)", "threshold_rule": o.thresholdRule.rawValue, "teachers": "\(o.teachers)",
            "distillation": "T \(o.distillTemperature), alpha \(o.distillAlpha)",
            "timing": "profile \(o.profileRuns) runs after \(o.profileWarmup), SLA \(o.slaRuns) runs, sweep \(o.sweep), SLA sweep \(o.slaSweep)",
        ]
    }

    /// The training stages in order, and the optimized model's pace measured up front (a few steps on random
    /// images), so that the baseline's first estimate already covers the whole job's training.
    func startClock(train: ImageSplit) throws -> JobClock {
        func steps(_ batch: Int) -> Int { (train.count + batch - 1) / batch }
        var optimizedEpochs = options.training.epochs
        if let e = options.optimizedEpochs { optimizedEpochs = e }
        let optimizedBatch = options.training.batchSize
        var stages = [JobClock.Stage(name: "baseline", model: "baseline", epochs: options.baselineEpochs,
                                     stepsPerEpoch: steps(options.baselineTraining.batchSize))]
        let name = options.optimizedModel
        if options.teachers > 0 {
            stages += (1...options.teachers).map {
                JobClock.Stage(name: "\(name) teacher \($0)", model: "optimized", epochs: optimizedEpochs, stepsPerEpoch: steps(optimizedBatch))
            }
        }
        stages.append(JobClock.Stage(name: name, model: "optimized", epochs: optimizedEpochs, stepsPerEpoch: steps(optimizedBatch)))
        let clock = JobClock(stages: stages, log: log)
        var probe = TrainingBenchmark()
        probe.model = name; probe.inputSize = train.height; probe.channels = options.optimizedChannels
        probe.batch = min(optimizedBatch, train.count); probe.steps = 3; probe.warmup = 1
        clock.measured(model: "optimized", secondsPerStep: try probe.run(backend: backend).step_ms / 1000)
        return clock
    }

    /// Profiles `checkpoint` as `pneumo profile` does, timed on the first images of `val` (the spec's sample batch).
    func profile(_ checkpoint: Checkpoint, val: ImageSplit? = nil, file: String = "") throws -> ModelProfile {
        var o = ModelProfile.Options()
        o.runs = options.profileRuns
        o.warmup = options.profileWarmup
        o.sweep = options.sweep
        let (log, name) = (self.log, checkpoint.descriptor.model)
        o.progress = { log("\(name): profile: " + $0) }
        let shape = Array(checkpoint.descriptor.inputShape(batch: 1).dropFirst())
        if let val, val.count > 0 {
            let n = min(o.batch, val.count)
            o.sample = try ProfileSample(images: try Preprocessing(size: shape[1], channels: shape[0]).images(val, indices: Array(0..<n)),
                                         source: "the first \(n) val images of \(file)")
        }
        let p = try ModelProfile.measure(name: checkpoint.descriptor.model, graph: try checkpoint.graph(),
                                         parameters: checkpoint.parameters, sampleShape: shape, options: o)
        log(String(format: "%@: %.3f GMACs, %.3f ms at batch 1, %.0f samples/s at batch %d", checkpoint.descriptor.model,
                   Double(p.macs_per_sample) / 1e9, p.latency_ms.mean, p.throughput_samples_per_s, p.batch_latency.batch))
        return p
    }

    func exportAndScore(_ checkpoint: Checkpoint, name: String, dataset: LoadedSplits, split: Split, splitNote: String?) throws -> SLAScorecard {
        let url = output.appendingPathComponent("\(name).onnx")
        var metadata = ["pneumo.model": checkpoint.descriptor.model]
        if let t = checkpoint.info["threshold"] { metadata["pneumo.threshold"] = t }
        if let t = checkpoint.info["temperature"] { metadata["pneumo.temperature"] = t }
        try ONNXExporter.write(graph: try checkpoint.graph(), parameters: checkpoint.parameters, to: url, dynamicBatch: true,
                               metadata: metadata)
        // Scored on the exported file, as deployed.
        let model = try ONNXModel(contentsOf: url)
        var graph = model.graph
        graph.outputs = Array(graph.outputs.prefix(1))
        let shape = Array(model.inputShape.dropFirst())
        var card = try SLAScorecard.measure(model: name, graph: graph, parameters: model.parameters, inputName: model.inputName,
                                            sampleShape: shape, dataset: dataset, split: split,
                                            preprocessing: try Preprocessing(size: shape[1], channels: shape[0]),
                                            targetSensitivity: options.targetSensitivity, rule: options.thresholdRule,
                                            temperature: try checkpoint.temperatureScaling(), runs: options.slaRuns,
                                            sweep: options.slaSweep, progress: { log("\(name): SLA: " + $0) })
        if let splitNote { card.spec_differences = [splitNote] + (card.spec_differences ?? []) }
        log("\(name): SLA \(card.pass ? "PASS" : "FAIL (\(card.checks.filter { !$0.pass }.map(\.name).joined(separator: ", ")))")")
        return card
    }
}

extension FileManager {
    func copyItem(atPath from: String, toPath to: String, replacing: Bool) throws {
        if replacing, fileExists(atPath: to) { try removeItem(atPath: to) }
        try copyItem(atPath: from, toPath: to)
    }
}
