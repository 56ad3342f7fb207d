import Data
import FileSafety
import Foundation
import ClinicalMetrics
import Models
import NN

/// Trains a model on a MedMNIST split with the spec's recipe, validating every epoch, keeping the best
/// (by val AUC, or by val loss where AUC is undefined: see `BestEpoch`) and the last checkpoint, and
/// stopping early. A killed run resumes from `last` to the same result: data order and dropout draws are
/// functions of (seed, epoch), and the optimizer state is saved beside the weights.
public struct Trainer {
    public var descriptor: ModelDescriptor
    public var config: TrainingConfig
    public var outputDirectory: URL
    public var backend: any Backend
    /// When set, the loss is distillation from its teacher instead of plain cross-entropy (`train_loss` in
    /// the history is then that loss; `val_loss` stays cross-entropy, comparable across runs).
    public var distillation: Distillation?
    /// Weights a fresh run starts from instead of the model's initialization (`--init`); a resumed run ignores them.
    /// Applied to zoo models only (`initial` already carries its weights).
    public var initialWeights: InitialWeights?
    /// Called after each epoch (the CLI prints a line).
    public var onEpoch: (EpochRecord) -> Void = { _ in }
    /// Called with the run's pace: once after its first few steps, then after every epoch (remaining-time estimates).
    /// The first one also times a validation batch, so that its estimate counts the validation passes too.
    public var onPace: ((TrainingPace) -> Void)?
    /// Asked after each epoch's checkpoints are written: true stops the run there (`TrainingStopped`), to be
    /// continued later with `resume` (Ctrl-C in the CLI).
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Called with notes the user should see (the CLI prints them on stderr).
    public var log: (String) -> Void = { _ in }
    public var showProgress = true

    public init(descriptor: ModelDescriptor, config: TrainingConfig, outputDirectory: URL, backend: any Backend) {
        self.descriptor = descriptor; self.config = config; self.outputDirectory = outputDirectory; self.backend = backend
    }

    var bestURL: URL { outputDirectory.appendingPathComponent("best.safetensors") }
    var lastURL: URL { outputDirectory.appendingPathComponent("last.safetensors") }   // `hasLastCheckpoint(in:)` looks for it
    var historyURL: URL { outputDirectory.appendingPathComponent("history.json") }

    func preprocessing() throws -> Preprocessing {
        try Preprocessing(size: descriptor.input_size, channels: descriptor.channels)
    }

    /// Trains from the zoo model's fresh initialisation, or from `initial` (an inference graph and its
    /// parameters: a rewritten model to fine-tune), whose graph is then stored in the checkpoints.
    public func run(train: ImageSplit, val: ImageSplit, resume: Bool = false,
                    initial: (graph: Graph, parameters: ParameterStore)? = nil) throws -> TrainingSummary {
        try Self.requireImages(train, file: nil)
        try Self.requireImages(val, file: nil)
        // Temporaries of a writer killed here earlier (`kill -9` mid-checkpoint) would otherwise stay forever.
        AtomicFile.removeStaleTemporaries(in: outputDirectory)
        let trainLoader = try DataLoader(train, batchSize: config.batchSize, sampling: .shuffled, preprocessing: preprocessing(),
                                         augmentation: config.augment ? config.augmentation : nil, seed: config.seed)
        let valLoader = try DataLoader(val, batchSize: max(config.batchSize, 64), sampling: .sequential, preprocessing: preprocessing())
        let weights = config.classWeights ? try inverseFrequencyClassWeights(counts: train.classCounts) : nil
        let resuming = resume ? try resumable() : false
        let inference: (graph: Graph, parameters: ParameterStore)
        var initReport: InitialWeights.Report?
        if let initial {
            inference = initial
        } else {
            var fresh = try ModelGraph(try descriptor.layer(), inputShape: descriptor.inputShape(batch: 1), seed: config.seed)
            if let initialWeights, !resuming {
                let report = try initialWeights.apply(to: &fresh.parameters)
                report.lines.forEach(log)
                initReport = report
            }
            inference = (fresh.graph, fresh.parameters)
        }
        let customGraph = initial?.graph
        let model = (graph: try inference.graph.appendingLoss(classWeights: weights), parameters: inference.parameters)
        var step = TrainingStep(graph: model.graph, parameters: model.parameters,
                                optimizer: Adam(weightDecay: config.weightDecay), backend: backend, seed: config.seed)
        let teacher = distillation.map { (distillation: $0, executors: $0.executors(backend: backend)) }
        let schedule = StepLR(base: config.learningRate, stepSize: config.lrStep, gamma: config.lrGamma)
        var average = try config.emaDecay.map { try WeightAverage(decay: $0, parameters: step.parameters) }
        let smoothing = config.labelSmoothing
        let smoothed: TrainingStep<Adam>.LogitsLoss? = smoothing > 0 ? { logits, labels in
            let (loss, saved) = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, classWeights: weights, labelSmoothing: smoothing)
            return (loss.scalars[0], try SoftmaxCrossEntropy.backward(saved, gradOut: 1))
        } : nil

        var history: [EpochRecord] = []
        var best = BestEpoch(), startEpoch = 0
        if resuming {
            let last = try Checkpoint.read(lastURL)
            guard last.descriptor == descriptor, (last.customGraph == nil) == (initial == nil) else {
                throw TrainingError("\(lastURL.path) holds \(last.descriptor.modelDescription) at \(last.descriptor.input_size) px, not \(descriptor.modelDescription) at \(descriptor.input_size) px")
            }
            guard last.info["optimizer_step"] != nil, last.info["epoch"] != nil else {
                throw TrainingError("\(lastURL.path) holds no optimizer state or epoch (a copy of best.safetensors?): only the last.safetensors a run writes can be resumed from")
            }
            step.parameters = last.parameters
            let prefix = Checkpoint.optimizerPrefix
            let saved = Dictionary(uniqueKeysWithValues:
                last.extraTensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) })
            try step.optimizer.restore(step: Int(last.info["optimizer_step"] ?? "") ?? 0, tensors: saved)
            if average != nil {
                let ema = Self.averagePrefix
                try average!.restore(step: Int(last.info["ema_step"] ?? "") ?? 0, tensors: Dictionary(uniqueKeysWithValues:
                    saved.filter { $0.key.hasPrefix(ema) }.map { (String($0.key.dropFirst(ema.count)), $0.value) }),
                                     buffersFrom: step.parameters)
            }
            startEpoch = (Int(last.info["epoch"] ?? "") ?? -1) + 1
            // history.json is written before the checkpoint, so it may hold one epoch more: drop it.
            history = try resumedHistory().filter { $0.epoch <= startEpoch }
            best = BestEpoch(info: last.info)
        }

        let root = SeededRandom(seed: config.seed)
        var stoppedEarly = best.epochsSince >= config.patience && startEpoch > 0
        var epoch = startEpoch
        var pace = PaceMeter(stepsPerEpoch: trainLoader.batchesPerEpoch, epochs: config.epochs)
        while epoch < config.epochs && !stoppedEarly {
            let started = DispatchTime.now().uptimeNanoseconds
            let lr = schedule.learningRate(epoch: epoch)
            step.rng = root.derived(UInt64(epoch))
            var bar = ProgressBar(total: trainLoader.batchesPerEpoch, label: "epoch \(epoch + 1)/\(config.epochs)",
                                  interactive: showProgress && isatty(STDERR_FILENO) != 0)
            var (lossSum, correct, seen, done) = (0.0, 0, 0, 0)
            for batch in trainLoader.epoch(epoch) {
                let distilled = try teacher.map { t in
                    t.distillation.loss(teacherLogits: try t.distillation.logits(batch.images, executors: t.executors), classWeights: weights)
                }
                let (loss, logits) = try step(image: batch.images, label: batch.labels, learningRate: lr, loss: distilled ?? smoothed)
                try average?.update(from: step.parameters)
                let n = batch.indices.count
                lossSum += Double(loss) * Double(n)
                correct += Self.correctCount(logits: logits, labels: batch.labels)
                seen += n; done += 1
                bar.update(done: done, samples: seen, loss: lossSum / Double(seen))
                if let onPace, var measured = pace.stepped(epoch: epoch, stepsDone: done) {
                    measured.validationSeconds = try validationSeconds(val, graph: model.graph, parameters: step.parameters,
                                                                       batches: valLoader.batchesPerEpoch)
                    onPace(measured)
                }
            }
            let kept = average?.shadow ?? step.parameters
            let val = try Evaluator.predict(graph: model.graph, parameters: kept, loader: valLoader, backend: backend)
            // nil where val holds one class: no positive-negative pair to rank (history.json says null).
            let auc = val.auc
            let record = EpochRecord(epoch: epoch + 1, learning_rate: Double(lr), train_loss: lossSum / Double(seen),
                                     train_accuracy: Double(correct) / Double(seen), val_loss: val.loss, val_accuracy: val.accuracy,
                                     val_auc: auc, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            history.append(record)
            bar.finish(String(format: "loss %.4f acc %.3f | val loss %.4f acc %.3f %@ | %.1fs", record.train_loss,
                              record.train_accuracy, record.val_loss, record.val_accuracy, record.aucText, record.seconds))
            if best.record(epoch: epoch, auc: auc, loss: val.loss) {
                var info = ["epoch": "\(epoch)", "val_loss": "\(val.loss)"]
                if let auc { info["val_auc"] = "\(auc)" }
                var checkpoint = Checkpoint(descriptor: descriptor, parameters: kept, info: info)
                checkpoint.customGraph = customGraph
                try checkpoint.write(to: bestURL)
            }
            stoppedEarly = best.epochsSince >= config.patience
            try saveLast(step: step, average: average, epoch: epoch, best: best, history: history, graph: customGraph)
            onEpoch(record)
            if !stoppedEarly && epoch + 1 < config.epochs {
                if stopRequested() { throw TrainingStopped(epochsDone: epoch + 1, folder: outputDirectory) }
                onPace?(pace.finished(epoch: epoch, seconds: record.seconds))
            }
            epoch += 1
        }
        let temperature = try calibrateBest(graph: model.graph, valLoader: valLoader)
        let timed = history.map(\.seconds)
        return TrainingSummary(best_epoch: best.epoch + 1, best_val_auc: best.auc, temperature: temperature,
                               seconds_per_epoch: timed.isEmpty ? 0 : timed.reduce(0, +) / Double(timed.count),
                               checkpoint: bestURL.path, last_checkpoint: lastURL.path, epochs_run: history.count,
                               stopped_early: stoppedEarly, history: history, initialization: initReport)
    }

    /// The last checkpoint carries the optimizer state too (tensors `optimizer.*`), so weights and
    /// moments are replaced together by one rename; `Checkpoint.read` sets them aside.
    /// Fits temperature scaling on val for the best checkpoint and stores it there (info `temperature`), so
    /// that every consumer of the model reports calibrated probabilities; nil where it cannot be fitted (one
    /// class in val, or val separated perfectly), which the checkpoint then says by storing none.
    private func calibrateBest(graph: Graph, valLoader: DataLoader) throws -> Double? {
        guard FileManager.default.fileExists(atPath: bestURL.path) else { return nil }
        var best = try Checkpoint.read(bestURL)
        if let stored = best.info["temperature"].flatMap(Double.init) { return stored }
        let val = try Evaluator.predict(graph: graph, parameters: best.parameters, loader: valLoader, backend: backend)
        guard let scaling = try? TemperatureScaling.fit(scores: val.scores, labels: val.labels) else { return nil }
        best.info["temperature"] = "\(scaling.temperature)"
        try best.write(to: bestURL)
        return scaling.temperature
    }

    /// The weight average's tensors ride in the last checkpoint under `optimizer.ema.`.
    static let averagePrefix = "ema."

    private func saveLast(step: TrainingStep<Adam>, average: WeightAverage?, epoch: Int, best: BestEpoch,
                          history: [EpochRecord], graph: Graph?) throws {
        try AtomicFile.write(try history.prettyJSON(), to: historyURL)
        let state = step.optimizer.state
        var info = best.info.merging(["epoch": "\(epoch)", "optimizer_step": "\(state.step)"]) { $1 }
        if let average { info["ema_step"] = "\(average.step)" }
        var checkpoint = Checkpoint(descriptor: descriptor, parameters: step.parameters, info: info)
        checkpoint.extraTensors = state.tensors.map { (Checkpoint.optimizerPrefix + $0.name, $0.tensor) }
            + (average?.trainableTensors ?? []).map { (Checkpoint.optimizerPrefix + Self.averagePrefix + $0.name, $0.tensor) }
        checkpoint.customGraph = graph
        try checkpoint.write(to: lastURL)
    }

    /// Refuses a split without images before any work: an empty train split used to end in
    /// "EncodingError … Double.-nan" with an untrained best.safetensors left behind.
    public static func requireImages(_ split: ImageSplit, file: String?) throws {
        guard split.count == 0 else { return }
        let what = split.split == .train ? "nothing to train on" : "nothing to validate on"
        throw TrainingError("\(file.map { $0 + ": " } ?? "")the \(split.split.rawValue) split holds no images; \(what)")
    }

    /// Whether `resume` has a last checkpoint to continue from. Without one it starts from scratch and says
    /// so, unless best.safetensors is there: a fresh run would overwrite it, and it cannot be resumed from
    /// (it holds the best weights, without the optimizer state and epoch a resume needs).
    func resumable() throws -> Bool {
        let files = FileManager.default
        if files.fileExists(atPath: lastURL.path) { return true }
        if files.fileExists(atPath: bestURL.path) {
            throw TrainingError("cannot resume: no last.safetensors in \(outputDirectory.path), only best.safetensors, which holds no optimizer state; train without --resume (best.safetensors is then replaced) or into another --out")
        }
        log("no last.safetensors in \(outputDirectory.path): starting from scratch")
        return false
    }

    /// One validation pass, estimated from one batch of it timed.
    private func validationSeconds(_ val: ImageSplit, graph: Graph, parameters: ParameterStore, batches: Int) throws -> Double {
        let batch = max(config.batchSize, 64)
        let first = try DataLoader(try val.prefix(min(batch, val.count)), batchSize: batch, sampling: .sequential,
                                   preprocessing: preprocessing())
        let started = DispatchTime.now().uptimeNanoseconds
        _ = try Evaluator.predict(graph: graph, parameters: parameters, loader: first, backend: backend)
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 * Double(batches)
    }

    /// Whether `folder` holds the last checkpoint a killed run continues from.
    public static func hasLastCheckpoint(in folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("last.safetensors").path)
    }

    /// history.json beside the last checkpoint, with an error that names it.
    func resumedHistory() throws -> [EpochRecord] {
        let data: Data
        do { data = try Data(contentsOf: historyURL) } catch {
            throw TrainingError("cannot resume: \(historyURL.path) cannot be read (\(error.localizedDescription)); it is written beside last.safetensors every epoch")
        }
        do { return try JSONDecoder().decode([EpochRecord].self, from: data) } catch {
            throw TrainingError("cannot resume: \(historyURL.path) is not a training history: \(error)")
        }
    }

    static func correctCount(logits: Tensor, labels: Tensor) -> Int {
        let l = logits.scalars, y = labels.scalars, k = logits.shape[1]
        return (0..<y.count).filter { r in
            let row = l[(r * k)..<(r * k + k)]
            return row.firstIndex(of: row.max()!)! - r * k == Int(y[r])
        }.count
    }
}

/// A run stopped on request after a finished epoch; its last checkpoint continues it.
public struct TrainingStopped: Error, CustomStringConvertible {
    public let epochsDone: Int
    public let folder: URL
    public var description: String { "training stopped on request after epoch \(epochsDone); \(folder.path)/last.safetensors continues it" }
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
