import Data
import GraphCore
import FileSafety
import Foundation
import Models
import Testing
@testable import Train
import TestSupport

// What the trainer refuses or says before it trains, and how it selects when val AUC is undefined
// (issue 22: an empty train split, a one-class val split, resuming without a last checkpoint).

private let descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)

private func quickConfig(epochs: Int) -> TrainingConfig {
    var c = TrainingConfig()
    c.epochs = epochs; c.batchSize = 8; c.patience = 5; c.learningRate = 1e-3
    return c
}

private func trainer(_ dir: URL, epochs: Int = 1) -> Trainer {
    var t = Trainer(descriptor: descriptor, config: quickConfig(epochs: epochs), outputDirectory: dir, backend: testBackend)
    t.showProgress = false
    return t
}

/// `syntheticSplit` with every label set to `label`.
private func oneClassSplit(_ split: Split, count: Int, label: Int, seed: UInt64) throws -> ImageSplit {
    let s = try syntheticSplit(split, count: count, seed: seed)
    return try ImageSplit(split: split, height: 28, width: 28, channels: 1, pixels: s.pixels, labels: [Int](repeating: label, count: count),
                          classCount: 2)
}

@Suite("Trainer guards")
struct TrainerGuardTests {
    /// An empty train split ended in "EncodingError … Double.-nan" with an untrained best.safetensors left
    /// behind; now it is refused before anything is written, naming the split (and the file, where known).
    @Test func emptySplitIsRefusedBeforeTraining() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = try ImageSplit(split: .train, height: 28, width: 28, channels: 1, pixels: [], labels: [], classCount: 2)
        let val = try syntheticSplit(.val, count: 6, seed: 2)
        #expect(throws: TrainingError.self) { _ = try trainer(dir).run(train: empty, val: val) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        let error = #expect(throws: TrainingError.self) { try Trainer.requireImages(empty, file: "/data/empty.npz") }
        #expect(error?.description == "/data/empty.npz: the train split holds no images; nothing to train on")
        let emptyVal = try ImageSplit(split: .val, height: 28, width: 28, channels: 1, pixels: [], labels: [], classCount: 2)
        #expect(throws: TrainingError.self) { _ = try trainer(dir).run(train: val, val: emptyVal) }
    }

    /// A one-class val split: AUC is undefined, so history.json says `null` (it said 0), the summary's best AUC
    /// is null, and the best epoch is the one with the lowest val loss.
    @Test func oneClassValidationHasNoAUCAndSelectsByLoss() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try syntheticSplit(.train, count: 24, seed: 1), val = try oneClassSplit(.val, count: 10, label: 1, seed: 2)
        var t = trainer(dir, epochs: 2)
        var lines: [String] = []
        t.onEpoch = { lines.append($0.aucText) }
        let summary = try t.run(train: train, val: val)
        #expect(summary.history.count == 2 && summary.history.allSatisfy { $0.val_auc == nil })
        #expect(lines == ["AUC undefined", "AUC undefined"])
        #expect(summary.best_val_auc == nil)
        let lowest = summary.history.min { $0.val_loss < $1.val_loss }!
        #expect(summary.best_epoch == lowest.epoch)
        let json = try String(contentsOf: dir.appendingPathComponent("history.json"), encoding: .utf8)
        #expect(json.components(separatedBy: "\"val_auc\" : null").count - 1 == 2)
        #expect(try summary.jsonString().contains("\"best_val_auc\" : null"))
        let best = try Checkpoint.read(URL(fileURLWithPath: summary.checkpoint))
        #expect(best.info["val_auc"] == nil && best.info["epoch"] == "\(lowest.epoch - 1)")
    }

    /// The selection rule: higher AUC; where AUC is undefined, lower val loss; an AUC beats none; the first
    /// epoch is always best so far; and the state survives the last checkpoint's info.
    @Test func bestEpochRule() {
        var best = BestEpoch()
        let steps: [(auc: Double?, loss: Double)] = [(nil, 0.7), (nil, 0.8), (nil, 0.6), (0.5, 0.9), (nil, 0.1), (0.5, 0.1), (0.9, 2)]
        var improved: [Bool] = []
        for (epoch, s) in steps.enumerated() { improved.append(best.record(epoch: epoch, auc: s.auc, loss: s.loss)) }
        // Ties keep the earlier epoch; an epoch without AUC never beats one with.
        #expect(improved == [true, false, true, true, false, false, true])
        #expect(best == BestEpoch(epoch: 6, auc: 0.9, loss: 2, epochsSince: 0))
        #expect(BestEpoch(info: best.info) == best)
        let undefined = BestEpoch(epoch: 0, auc: nil, loss: 0.3)
        #expect(BestEpoch(info: undefined.info) == undefined && undefined.info["best_val_auc"] == nil)
        // A last checkpoint from before: best_val_auc -1 meant none yet, and there was no best_val_loss.
        #expect(BestEpoch(info: ["best_val_auc": "-1.0", "best_epoch": "-1", "epochs_since_best": "0"]) == BestEpoch())
    }

    /// `--resume` without last.safetensors: from scratch, saying so; with only best.safetensors there, refused
    /// (a fresh run would overwrite it); with a best checkpoint copied over last, refused by name (it used to
    /// end in a raw NSError about history.json).
    @Test func resumeWithoutALastCheckpoint() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (train, val) = (try syntheticSplit(.train, count: 8, seed: 1), try syntheticSplit(.val, count: 6, seed: 2))
        var t = trainer(dir.appendingPathComponent("fresh"))
        var notes: [String] = []
        t.log = { notes.append($0) }
        _ = try t.run(train: train, val: val, resume: true)
        #expect(notes == ["no last.safetensors in \(dir.appendingPathComponent("fresh").path): starting from scratch"])

        let onlyBest = dir.appendingPathComponent("only-best")
        let model = try descriptor.graph()
        try Checkpoint(descriptor: descriptor, parameters: model.parameters, info: ["epoch": "0", "val_auc": "0.9"])
            .write(to: onlyBest.appendingPathComponent("best.safetensors"))
        let refused = #expect(throws: TrainingError.self) { _ = try trainer(onlyBest).run(train: train, val: val, resume: true) }
        #expect(refused?.description.hasPrefix("cannot resume: no last.safetensors in \(onlyBest.path), only best.safetensors") == true)

        try FileManager.default.copyItem(at: onlyBest.appendingPathComponent("best.safetensors"), to: onlyBest.appendingPathComponent("last.safetensors"))
        let copied = #expect(throws: TrainingError.self) { _ = try trainer(onlyBest).run(train: train, val: val, resume: true) }
        #expect(copied?.description.contains("holds no optimizer state or epoch (a copy of best.safetensors?)") == true)
    }

    /// A temporary left by a writer killed mid-checkpoint is removed when training starts there again.
    @Test func staleCheckpointTemporaryIsRemovedOnStart() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stale = dir.appendingPathComponent(".best.safetensors.\(Int32.max - 1).tmp")
        try Data(count: 64).write(to: stale)
        _ = try trainer(dir).run(train: try syntheticSplit(.train, count: 8, seed: 1), val: try syntheticSplit(.val, count: 6, seed: 2))
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["best.safetensors", "history.json", "last.safetensors"])
    }
}
