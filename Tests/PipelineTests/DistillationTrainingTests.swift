import Data
import GraphCore
import Foundation
import Models
import Optimize
import Testing
@testable import Train
@testable import Pipeline
import TestSupport

// Distillation end to end on a tiny synthetic dataset (64 training and 30 validation images at 28 px,
// PneumoNet): the trainer's wiring, then `ModelOptimizer` with and without a recipe's `distill`.

private let descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)

private func config(epochs: Int = 1) -> TrainingConfig {
    var c = TrainingConfig()
    c.epochs = epochs
    c.batchSize = 16
    c.patience = 10
    c.augment = true
    return c
}

private func trainer(_ config: TrainingConfig, _ dir: URL) -> Trainer {
    var t = Trainer(descriptor: descriptor, config: config, outputDirectory: dir, backend: testBackend)
    t.showProgress = false
    return t
}

@Suite("Distillation: trainer and optimizer")
struct DistillationTrainingTests {
    /// α = 0 leaves only the cross-entropy, with exactly its gradient: the run must be plain training,
    /// epoch for epoch, whatever the teacher.
    @Test func alphaZeroIsPlainTraining() throws {
        let (train, val) = (try syntheticSplit(.train, count: 64, seed: 1), try syntheticSplit(.val, count: 30, seed: 2))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try trainer(config(), dir.appendingPathComponent("plain")).run(train: train, val: val)
        let teacher = try descriptor.graph(seed: 9)
        var distilled = trainer(config(), dir.appendingPathComponent("distilled"))
        distilled.distillation = try Distillation(teacher: teacher.graph, parameters: teacher.parameters, temperature: 4, alpha: 0)
        let kd = try distilled.run(train: train, val: val)
        #expect(kd.history.count == 1 && plain.history.count == 1)
        for (a, b) in zip(kd.history, plain.history) {
            #expect(a.train_loss == b.train_loss && a.train_accuracy == b.train_accuracy)
            #expect(a.val_loss == b.val_loss && a.val_auc == b.val_auc)
        }
    }

    /// A teacher identical to the student, with nothing that differs between training and inference mode
    /// (batch-norm folded away, no dropout) and the learning rate at 0, agrees with it on every batch only if
    /// it sees the very (augmented) images the student sees: with α = 1 the loss is then KL(q ‖ q) = 0.
    @Test func teacherSeesTheStudentsBatch() throws {
        let (train, val) = (try syntheticSplit(.train, count: 64, seed: 3), try syntheticSplit(.val, count: 30, seed: 4))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelGraph(try PneumoNet(inChannels: 1, dropout: 0), inputShape: descriptor.inputShape(batch: 1), seed: 5)
        var (graph, parameters) = try InferenceRewrites.foldBatchNorm(model.graph, model.parameters)
        // A fresh classifier's logits are nearly flat; scaled up 100×, they move visibly with the input.
        let classifier = try #require(graph.leaves.last { $0.trainable && $0.shape.count == 2 }?.name)
        try parameters.set(classifier, try ReferenceBackend().multiply(parameters[classifier]!,
                                                                      Tensor(repeating: 100, shape: parameters[classifier]!.shape)))
        let modeDependent = graph.nodes.filter {
            switch $0.op {
            case .batchNorm2d: true
            case .dropout(let p): p > 0
            default: false
            }
        }
        try #require(modeDependent.isEmpty, "\(modeDependent.map(\.name))")
        var c = config()
        c.learningRate = 0
        var t = trainer(c, dir)
        t.distillation = try Distillation(teacher: graph, parameters: parameters, temperature: 4, alpha: 1)
        let summary = try t.run(train: train, val: val, initial: (graph, parameters))
        let loss = try #require(summary.history.first?.train_loss)
        // The two forwards run the same kernels on the same inputs; allow float32 rounding in the KL sum only.
        #expect(abs(loss) < 1e-6, "train loss \(loss)")

        // The check can fail: the same teacher on the un-augmented batch would be far from the student.
        let (images, labels) = try firstBatch(train, augmented: true), (plainImages, _) = try firstBatch(train, augmented: false)
        func logits(_ x: Tensor) throws -> Tensor {
            var (p, rng) = (parameters, SeededRandom(seed: 0))
            return try Executor(graph: graph, backend: testBackend).forward(feeds: ["image": x], parameters: &p, mode: .inference,
                                                                             rng: &rng)[graph.outputs[0]]!
        }
        let unaugmented = try DistillationLoss.forward(student: logits(images), teacher: logits(plainImages), labels: labels,
                                                       temperature: 4, alpha: 1).loss.scalars[0]
        #expect(unaugmented > 1e-3, "a teacher on un-augmented images gives \(unaugmented)")
    }

    /// The teacher's logits are its inference-mode outputs: running batch-norm statistics, no dropout, the
    /// same on every call (a training-mode forward would differ, and would move the running statistics).
    @Test func teacherRunsInInferenceMode() throws {
        let model = try descriptor.graph(seed: 10)  // batch-norm and dropout 0.2
        let teacher = try Distillation(teacher: model.graph, parameters: model.parameters, temperature: 4, alpha: 0.5)
        let (images, _) = try firstBatch(try syntheticSplit(.train, count: 32, seed: 11), augmented: true)
        let executor = Executor(graph: model.graph, backend: testBackend)
        let logits = try teacher.logits(images, executor: executor)
        func forward(_ mode: ExecutionMode) throws -> Tensor {
            var (p, rng) = (model.parameters, SeededRandom(seed: 1))
            return try executor.forward(feeds: ["image": images], parameters: &p, mode: mode, rng: &rng)[model.graph.outputs[0]]!
        }
        #expect(logits.scalars == (try forward(.inference)).scalars)
        #expect(logits.scalars != (try forward(.training)).scalars)
        #expect(logits.scalars == (try teacher.logits(images, executor: executor)).scalars)
    }

    private func firstBatch(_ split: ImageSplit, augmented: Bool) throws -> (Tensor, Tensor) {
        let c = config()
        let loader = try DataLoader(split, batchSize: c.batchSize, sampling: .shuffled,
                                    preprocessing: try Preprocessing(size: 28, channels: 1),
                                    augmentation: augmented ? Augmentation() : nil, seed: c.seed)
        var batches = loader.epoch(0)
        let next = batches.next()
        let batch = try #require(next)
        return (batch.images, batch.labels)
    }

    @Test(arguments: [true, false])
    func optimizerReportsDistillation(distill: Bool) throws {
        let (train, val) = (try syntheticSplit(.train, count: 64, seed: 6), try syntheticSplit(.val, count: 30, seed: 7))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try descriptor.graph(seed: 8)
        let source = dir.appendingPathComponent("source.safetensors")
        try Checkpoint(descriptor: descriptor, parameters: model.parameters).write(to: source)
        let recipe = Recipe(name: "test", steps: [Recipe.Step("prune-channels", fraction: 0.25)],
                            fine_tune: Recipe.FineTune(epochs: 1, learning_rate: 1e-3),
                            distill: distill ? Recipe.Distill(temperature: 4, alpha: 0.7) : nil)
        var lines: [String] = []
        let out = dir.appendingPathComponent("out")
        let report = try ModelOptimizer(backend: testBackend) { lines.append($0) }
            .run(checkpoint: source, recipe: recipe, train: train, val: val, file: "<synthetic>", output: out)

        let expected = distill ? ModelOptimizer.DistillationReport(used: true, temperature: 4, alpha: 0.7, teacher: source.path)
                               : ModelOptimizer.DistillationReport(used: false)
        #expect(report.distillation == expected)
        #expect(lines.contains { $0.hasPrefix("fine-tuning by distillation") } == distill)
        let history = try #require(report.fine_tune?.history)
        #expect(history.count == 1 && history[0].train_loss.isFinite && history[0].train_loss > 0)
        #expect(FileManager.default.fileExists(atPath: report.checkpoint) && FileManager.default.fileExists(atPath: report.onnx))
        // Each step's compute under both names (2 FLOPs per MAC), and the SLA's 98% as the default target.
        #expect(!report.steps.isEmpty && report.steps.allSatisfy { $0.flops_per_sample == 2 * $0.macs_per_sample })
        #expect(report.target_sensitivity == 0.98)

        // optimize.json says it too, `"used": false` included
        struct Written: Decodable { var distillation: ModelOptimizer.DistillationReport }
        let data = try Data(contentsOf: out.appendingPathComponent("optimize.json"))
        #expect(try JSONDecoder().decode(Written.self, from: data).distillation == expected)
        #expect(String(decoding: data, as: UTF8.self).contains(#""used" : \#(distill)"#))
    }
}
