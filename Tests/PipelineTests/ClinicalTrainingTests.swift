import Data
import GraphCore
import Foundation
import ClinicalMetrics
import Models
import Testing
@testable import Train
import TestSupport

// The clinical-grade training and evaluation on tiny data: weight averaging and label smoothing resume
// exactly, the best checkpoint carries a temperature fitted on val, cross-validation's folds, and the
// evaluation's intervals, calibration and threshold rule.

private let descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)

/// `syntheticSplit` with every seventh label flipped, so that no model separates the classes perfectly
/// (a temperature is then always defined).
private func noisySplit(_ split: Split, count: Int, seed: UInt64) throws -> ImageSplit {
    let s = try syntheticSplit(split, count: count, seed: seed)
    return try ImageSplit(split: split, height: 28, width: 28, channels: 1, pixels: s.pixels,
                          labels: s.labels.enumerated().map { $0.offset % 7 == 3 ? 1 - $0.element : $0.element }, classCount: 2)
}

private func radiographConfig(epochs: Int) -> TrainingConfig {
    var c = TrainingRecipe.radiographSmoothedAveraged.apply(to: TrainingConfig())
    c.epochs = epochs; c.batchSize = 16; c.patience = 10
    return c
}

@Suite("Clinical training and evaluation")
struct ClinicalTrainingTests {
    /// Two epochs in one run, and one epoch then `--resume` to two, give the same history and best weights:
    /// the weight average and its step count travel in last.safetensors.
    @Test func averagedSmoothedRunResumesExactly() throws {
        let (train, val) = (try noisySplit(.train, count: 48, seed: 1), try noisySplit(.val, count: 28, seed: 2))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func trainer(_ epochs: Int, _ name: String) -> Trainer {
            var t = Trainer(descriptor: descriptor, config: radiographConfig(epochs: epochs), outputDirectory: dir.appendingPathComponent(name),
                            backend: testBackend)
            t.showProgress = false
            return t
        }
        let whole = try trainer(2, "whole").run(train: train, val: val)
        _ = try trainer(1, "split").run(train: train, val: val)
        let resumed = try trainer(2, "split").run(train: train, val: val, resume: true)
        #expect(whole.history.map(\.val_auc) == resumed.history.map(\.val_auc))
        #expect(whole.history.map(\.train_loss) == resumed.history.map(\.train_loss))
        let (a, b) = (try Checkpoint.read(URL(fileURLWithPath: whole.checkpoint)), try Checkpoint.read(URL(fileURLWithPath: resumed.checkpoint)))
        for name in a.parameters.names { #expect(a.parameters[name]!.scalars == b.parameters[name]!.scalars, "\(name)") }
        let last = try Checkpoint.read(URL(fileURLWithPath: whole.last_checkpoint))
        #expect(last.info["ema_step"] == "\(2 * 3)")   // 48 images in batches of 16, two epochs
        #expect(last.extraTensors.contains { $0.name.hasPrefix("optimizer.ema.") })
    }

    /// The best checkpoint stores the maximum-likelihood temperature of its own val scores where one exists,
    /// and none where it does not (here, a barely trained model whose val scores all sit on one side of ½
    /// while most labels are on the other: the likelihood is best as T → ∞).
    @Test(arguments: [(2, 1e-3), (1, 0.0)])
    func bestCheckpointCarriesTheValTemperature(epochs: Int, learningRate: Float) throws {
        let (train, val) = (try noisySplit(.train, count: 48, seed: 3), try noisySplit(.val, count: 28, seed: 4))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = TrainingConfig()
        config.epochs = epochs; config.batchSize = 16; config.learningRate = learningRate
        var t = Trainer(descriptor: descriptor, config: config, outputDirectory: dir, backend: testBackend)
        t.showProgress = false
        let summary = try t.run(train: train, val: val)
        let best = try Checkpoint.read(URL(fileURLWithPath: summary.checkpoint))
        let scores = try Evaluator.predict(graph: try best.graph().appendingLoss(), parameters: best.parameters,
                                           loader: DataLoader(val, batchSize: 64, sampling: .sequential, preprocessing: Preprocessing()),
                                           backend: testBackend)
        let fitted = try? TemperatureScaling.fit(scores: scores.scores, labels: scores.labels)
        #expect(summary.temperature == best.info["temperature"].flatMap(Double.init))
        #expect(summary.temperature.map { abs($0 - fitted!.temperature) < 1e-9 } ?? (fitted == nil))
    }

    /// An ensemble teacher's logits are the log of its members' mean softmax, checked against each member run
    /// alone; a one-member ensemble passes its member's logits through unchanged.
    @Test func ensembleTeacherAveragesProbabilities() throws {
        let (a, b) = (try descriptor.graph(seed: 21), try descriptor.graph(seed: 22))
        let images = try Preprocessing().images(try syntheticSplit(.train, count: 6, seed: 7), indices: Array(0..<6))
        let ensemble = try Distillation(ensemble: [(a.graph, a.parameters), (b.graph, b.parameters)], temperature: 2, alpha: 0.5)
        let logits = try ensemble.logits(images, executors: ensemble.executors(backend: testBackend))
        let single = try [a, b].map { m -> [Float] in
            let d = try Distillation(teacher: m.graph, parameters: m.parameters, temperature: 2, alpha: 0.5)
            return try d.logits(images, executor: Executor(graph: m.graph, backend: testBackend)).scalars
        }
        for r in 0..<6 {
            func softmax(_ x: [Float]) -> [Double] {
                let e = x.map { exp(Double($0 - x.max()!)) }
                return e.map { $0 / e.reduce(0, +) }
            }
            let pa = softmax(Array(single[0][(2 * r)..<(2 * r + 2)])), pb = softmax(Array(single[1][(2 * r)..<(2 * r + 2)]))
            for j in 0..<2 { #expect(abs(Double(logits.scalars[2 * r + j]) - log((pa[j] + pb[j]) / 2)) < 1e-5) }
        }
        #expect(throws: TrainingError.self) { try Distillation(ensemble: [], temperature: 2, alpha: 0.5) }
    }

    /// `trainingEnsemble` trains each teacher on its own seed into its own folder and distils from all of them.
    @Test func teacherEnsembleTrainsEveryMember() throws {
        let (train, val) = (try noisySplit(.train, count: 32, seed: 8), try noisySplit(.val, count: 16, seed: 9))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = TrainingConfig()
        config.epochs = 1; config.batchSize = 16; config.seed = 40
        var seeds: [UInt64] = []
        let d = try Distillation.trainingEnsemble(of: descriptor, config: config, count: 2, train: train, val: val,
                                                  directory: { dir.appendingPathComponent("t\($0)") }, temperature: 3, alpha: 0.6,
                                                  backend: testBackend) { seeds.append($0.config.seed); $0.showProgress = false }
        #expect(d.members.count == 2 && seeds == [41, 42] && d.temperature == 3 && d.alpha == 0.6)
        for k in 1...2 { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("t\(k)/best.safetensors").path)) }
        let a = d.members[0].parameters, b = d.members[1].parameters
        #expect(a.names.contains { a[$0]!.scalars != b[$0]!.scalars })
    }

    @Test func crossValidationHoldsEachFoldOut() throws {
        let (train, val) = (try noisySplit(.train, count: 60, seed: 5), try noisySplit(.val, count: 30, seed: 6))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = CrossValidation.Options()
        options.folds = 3; options.rule = .valSensitivity; options.targetSensitivity = 0.9
        var config = TrainingConfig()
        config.epochs = 1; config.batchSize = 16
        let cv = CrossValidation(descriptor: descriptor, recipe: "spec", config: config, options: options, outputDirectory: dir,
                                 backend: testBackend)
        let result = try cv.run(train: train, val: val)
        #expect(result.per_fold.count == 3 && result.images == 90)
        #expect(result.per_fold.map(\.test).reduce(0, +) == 90)
        for f in result.per_fold {
            #expect(f.train + f.val + f.test == 90 && f.val == result.per_fold[f.fold % 3].test)
            #expect(f.sensitivity >= 0 && f.sensitivity <= 1 && f.auc_ci95 != nil)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fold-\(f.fold)/best.safetensors").path))
        }
        let mean = result.per_fold.map(\.auc).reduce(0, +) / 3
        #expect(abs(result.auc.mean - mean) < 1e-12)
        let json = try JSONSerialization.jsonObject(with: try result.prettyJSON()) as! [String: Any]
        for key in ["per_fold", "auc", "sensitivity", "specificity", "pooled_auc", "threshold_rule", "config"] { #expect(json[key] != nil, "\(key)") }
        #expect((json["auc"] as? [String: Double])?.keys.sorted() == ["mean", "sd"])
        #expect(result.table().contains("mean ± sd"))
        #expect(throws: TrainingError.self) {
            var two = options
            two.folds = 2
            _ = try CrossValidation(descriptor: descriptor, recipe: "spec", config: config, options: two, outputDirectory: dir,
                                    backend: testBackend).run(train: train, val: val)
        }
    }

    /// Two models on the Deploy fixture's test split: DeLong's paired test of their own scores; a model against
    /// itself differs by nothing.
    @Test func comparisonIsDeLongOnTheSameImages() throws {
        let file = packageRoot.appendingPathComponent("Tests/DeployTests/Fixtures/tiny_pneumonia.npz")
        let dataset = try MedMNISTDataset(contentsOf: file)
        let (a, b) = (try descriptor.graph(seed: 31), try descriptor.graph(seed: 32))
        let (ca, cb) = (Checkpoint(descriptor: descriptor, parameters: a.parameters), Checkpoint(descriptor: descriptor, parameters: b.parameters))
        let c = try ModelComparison.run(("a", ca), ("b", cb), dataset: dataset, split: .test, batchSize: 8, backend: testBackend)
        let (sa, sb) = (try ModelComparison.scores(ca, dataset: dataset, split: .test, batchSize: 8, backend: testBackend),
                        try ModelComparison.scores(cb, dataset: dataset, split: .test, batchSize: 8, backend: testBackend))
        #expect(c.delong == DeLong.compare(scoresA: sa.scores, scoresB: sb.scores, labels: sa.labels))
        #expect(c.samples == 12 && c.table().contains("DeLong"))
        let same = try ModelComparison.run(("a", ca), ("a", ca), dataset: dataset, split: .test, batchSize: 8, backend: testBackend)
        #expect(same.delong.difference == 0 && same.delong.p_value == 1)
    }

    /// `eval`'s figures on the Deploy fixture (16 pneumonia images in val): intervals, calibration, the
    /// curve the threshold is chosen from, and a Wilson rule that cannot be met on so few positives.
    @Test func evaluationReportsIntervalsAndCalibration() throws {
        let file = packageRoot.appendingPathComponent("Tests/DeployTests/Fixtures/tiny_pneumonia.npz")
        let dataset = try MedMNISTDataset(contentsOf: file)
        let m = try descriptor.graph(seed: 3)
        var checkpoint = Checkpoint(descriptor: descriptor, parameters: m.parameters, info: ["temperature": "2"])
        let e = try ClinicalEvaluation.run(checkpoint: checkpoint, dataset: dataset, split: .test, thresholds: [0.4, 0.7],
                                           targetSensitivity: 0.9, rule: .valSensitivity, batchSize: 16, backend: testBackend)
        #expect(e.ci95?.auc?.contains(e.auc) == true)
        for t in e.thresholds { #expect(t.ci95 == ProportionIntervals(t.confusion)) }
        let target = try #require(e.target)
        #expect(target.rule == "val-sensitivity" && target.ci95 != nil)
        let calibration = try #require(e.calibration)
        #expect(calibration.temperature == 2 && calibration.temperature_source == "checkpoint")
        #expect(calibration.bins.map(\.count).reduce(0, +) == 12)
        let curve = try #require(e.operating_curve)
        #expect(curve.count == 101 && curve.first!.sensitivity == 1)
        #expect(e.table().contains("calibration: Brier"))
        // The stored temperature moves probabilities, not the ranking.
        checkpoint.info["temperature"] = nil
        let raw = try ClinicalEvaluation.run(checkpoint: checkpoint, dataset: dataset, split: .test, thresholds: [0.5],
                                             targetSensitivity: nil, batchSize: 16, backend: testBackend)
        #expect(abs(raw.auc - e.auc) < 1e-12 && raw.calibration?.temperature_source == "none")
        #expect(abs(raw.calibration!.brier - calibration.brier_uncalibrated) < 1e-12)
        // Test-time augmentation averages the views: its scores are the mean of each view scored alone.
        let tta = try ClinicalEvaluation.run(checkpoint: checkpoint, dataset: dataset, split: .test, thresholds: [0.5],
                                             targetSensitivity: nil, batchSize: 16, testTimeAugmentation: .standard, backend: testBackend)
        #expect(tta.views == 5 && raw.views == 1 && tta.table().contains("averaged over 5 test-time views"))
        let graph = try checkpoint.graph().appendingLoss()
        let perView = try TestTimeAugmentation.standard.views.map { view in
            try TestTimeAugmentation(views: [view]).predict(graph: graph, parameters: checkpoint.parameters, split: try dataset.split(.test),
                                                           preprocessing: Preprocessing(), batchSize: 16, backend: testBackend).scores
        }
        let mean = (0..<12).map { i in perView.map { $0[i] }.reduce(0, +) / 5 }
        let averaged = try TestTimeAugmentation.standard.predict(graph: graph, parameters: checkpoint.parameters, split: try dataset.split(.test),
                                                                 preprocessing: Preprocessing(), batchSize: 16, backend: testBackend)
        for (a, b) in zip(averaged.scores, mean) { #expect(abs(a - b) < 1e-12) }
        #expect(perView[0] != perView[1])
        #expect(throws: TrainingError.self) {
            try ClinicalEvaluation.run(checkpoint: checkpoint, dataset: dataset, split: .test, thresholds: [0.5], targetSensitivity: 0.98,
                                       rule: .wilsonLowerBound, batchSize: 16, backend: testBackend)
        }
    }
}
