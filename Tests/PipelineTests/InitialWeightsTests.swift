import Foundation
import GraphCore
import Models
import NN
import Testing
import TestSupport
@testable import Train

/// `train --init`: a file in torchvision's layout (its head a plain Linear of 1000 classes, I64 `num_batches_tracked`,
/// F16 weights) built here byte by byte, loaded into a small ResNet-18 and trained from.
@Suite("Initial weights")
struct InitialWeightsTests {
    /// ResNet-18 at an eighth of the width (stages of 8, 16, 32, 64 channels): the layout of the full one, small.
    static let descriptor = ModelDescriptor(model: "resnet18", inputSize: 28, channels: 3, options: ModelOptions(width: 0.125))

    /// Our name as torchvision's ResNet names it: its head is `fc`, ours `fc` = Sequential(Dropout, Linear).
    static func torchvisionName(_ ours: String) -> String { ours.hasPrefix("fc.1.") ? "fc." + ours.dropFirst(5) : ours }

    /// A state dict of `parameters`' tensors under torchvision's names, in its order: F16 batch-norm tensors (values
    /// binary16 holds exactly), F32 convolutions, an I64 `num_batches_tracked` after each batch norm's `running_var`,
    /// and `head` (classes) rows in `fc`. `drop` leaves a tensor out; `extra` adds one the model lacks.
    static func torchvisionFile(_ parameters: ParameterStore, head: Int, drop: String? = nil, extra: Bool = false,
                                stemChannels: Int? = nil) -> [UInt8] {
        var tensors: [SafetensorsTensor] = []
        for (i, name) in parameters.names.enumerated() {
            var shape = parameters[name]!.shape
            if name.hasPrefix("fc.1.") { shape[0] = head }
            if name == "conv1.weight", let stemChannels { shape[1] = stemChannels }
            let count = shape.reduce(1, *)
            let batchNorm = name.contains("bn") || name.contains("downsample.1")
            if name != drop {
                // Batch norm: 0.25, 0.5, …, 2 (exact in binary16), offset per tensor so that no two are equal.
                tensors.append(batchNorm ? .f16(torchvisionName(name), shape, exactly: (0..<count).map { Float(1 + (($0 + i) % 8)) / 4 })
                               : .f32(torchvisionName(name), shape, TestData.normal([count], seed: UInt64(i + 1), std: 0.1).scalars))
            }
            if name.hasSuffix("running_var") {
                tensors.append(.i64(String(name.dropLast("running_var".count)) + "num_batches_tracked", [], [Int64(100 + i)]))
            }
        }
        if extra { tensors.append(.f32("extra.weight", [2], [1, 2])) }
        return safetensorsBytes(tensors, metadata: ["format": "pt"])
    }

    static func write(_ bytes: [UInt8], in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("torchvision.safetensors")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func torchvisionLayoutLoadsAndTheHeadKeepsItsInitialization() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = try Self.descriptor.graph(seed: 1).parameters
        let url = try Self.write(Self.torchvisionFile(fresh, head: 1000, drop: "layer4.1.bn2.running_var", extra: true), in: dir)
        var parameters = fresh
        let report = try InitialWeights(file: url).apply(to: &parameters)

        let file = try Safetensors.read(url)
        #expect(report.model_tensors == fresh.names.count && report.loaded == fresh.names.count - 3)
        #expect(report.head_skipped == ["fc.weight as fc.1.weight: the file's [1000, 64], the model's [2, 64]",
                                        "fc.bias as fc.1.bias: the file's [1000], the model's [2]"])
        #expect(report.missing == ["layer4.1.bn2.running_var"] && report.unexpected == ["extra.weight"])
        #expect(report.ignored == 20, "ResNet-18 has 20 batch norms, each with a num_batches_tracked")
        #expect(report.shape_mismatches.isEmpty && report.channels_summed.isEmpty)
        for name in fresh.names where !name.hasPrefix("fc.1.") && name != "layer4.1.bn2.running_var" {
            #expect(parameters[name]!.scalars == file[Self.torchvisionName(name)]!.scalars, "\(name) was not loaded")
        }
        #expect(parameters["bn1.weight"]!.scalars.prefix(3) == [0.5, 0.75, 1.0], "F16 values")
        for name in ["fc.1.weight", "fc.1.bias", "layer4.1.bn2.running_var"] {
            #expect(parameters[name]!.scalars == fresh[name]!.scalars, "\(name) keeps its fresh initialization")
        }
        #expect(report.lines.first == "--init \(url.path): loaded \(fresh.names.count - 3) of the model's \(fresh.names.count) tensors (20 counters or optimizer tensors ignored)")

        // Strict refuses the same file, listing every difference.
        var again = fresh
        let error = #expect(throws: Safetensors.Error.self) { _ = try InitialWeights(file: url, strict: true).apply(to: &again) }
        #expect(error?.path == url.path)
        #expect(again["conv1.weight"]!.scalars == fresh["conv1.weight"]!.scalars, "a refused file changes nothing")
        #expect(error?.message == """
            --init-strict: the file does not match the model exactly:
              the head's shape differs: fc.weight as fc.1.weight: the file's [1000, 64], the model's [2, 64]; fc.bias as fc.1.bias: the file's [1000], the model's [2]
              missing from the file: layer4.1.bn2.running_var
              in the file but not in the model: extra.weight
            """)
    }

    /// A two-class torchvision head (`fc.weight [2, 64]`) is ours (`fc.1.weight`): everything loads, strict accepts it.
    @Test func aMatchingHeadLoadsUnderTorchvisionsName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = try Self.descriptor.graph(seed: 1).parameters
        let url = try Self.write(Self.torchvisionFile(fresh, head: 2), in: dir)
        var parameters = fresh
        let report = try InitialWeights(file: url, strict: true).apply(to: &parameters)
        #expect(report.loaded == fresh.names.count && report.lines.count == 1)
        #expect(parameters["fc.1.weight"]!.scalars == (try Safetensors.read(url))["fc.weight"]!.scalars)
    }

    /// A 3-channel stem for a 1-channel model: summed over its input channels, which computes on a grayscale image what
    /// the 3-channel stem computes on that image replicated to three channels.
    @Test func aThreeChannelStemIsSummedForGrayscale() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var gray = Self.descriptor
        gray.channels = 1
        let fresh = try gray.graph(seed: 1).parameters
        let url = try Self.write(Self.torchvisionFile(fresh, head: 2, stemChannels: 3), in: dir)
        var parameters = fresh
        let report = try InitialWeights(file: url).apply(to: &parameters)
        #expect(report.channels_summed == ["conv1.weight [8, 3, 7, 7] → [8, 1, 7, 7]"] && report.loaded == fresh.names.count)
        let rgb = try Safetensors.read(url)["conv1.weight"]!.scalars, summed = parameters["conv1.weight"]!.scalars
        for o in 0..<8 {
            for p in 0..<49 {
                let expected = (0..<3).map { rgb[(o * 3 + $0) * 49 + p] }.reduce(0, +)
                #expect(summed[o * 49 + p] == expected)
            }
        }
        var again = fresh
        #expect(throws: Safetensors.Error.self) { _ = try InitialWeights(file: url, strict: true).apply(to: &again) }
    }

    /// Another model's file is refused, even where a few of its tensors match (a two-class head's bias does).
    @Test func aFileOfAnotherModelIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.write(safetensorsBytes([.f32("features.0.weight", [2], [1, 2]), .f32("fc.1.bias", [2], [0, 0]),
                                                   .i64("bn.num_batches_tracked", [], [3])]), in: dir)
        var parameters = try Self.descriptor.graph(seed: 1).parameters
        let error = #expect(throws: Safetensors.Error.self) { _ = try InitialWeights(file: url).apply(to: &parameters) }
        #expect(error?.message == "only 1 of the model's 102 tensors match the file by name and shape (--init needs at least half): "
                + "weights of another model? The model's first: conv1.weight [8, 3, 7, 7], bn1.weight [8], bn1.bias [8]; "
                + "the file's: features.0.weight [2], fc.1.bias [2], bn.num_batches_tracked []")
    }

    /// A variant whose block convolutions are factorized (`resnet18-dws`) still takes most of a standard ResNet-18's
    /// tensors: the stem, every batch norm, the shortcuts; its factors are listed as missing, the 3×3 weights as unexpected.
    @Test func aVariantTakesWhatItShares() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.write(Self.torchvisionFile(try Self.descriptor.graph(seed: 1).parameters, head: 1000), in: dir)
        let dws = ModelDescriptor(model: "resnet18-dws", inputSize: 28, channels: 3, options: ModelOptions(width: 0.125))
        var parameters = try dws.graph(seed: 1).parameters
        let report = try InitialWeights(file: url).apply(to: &parameters)
        #expect(report.loaded == report.model_tensors - 2 - 32 && report.missing.count == 32 && report.unexpected.count == 16)
        #expect(report.missing.prefix(2) == ["layer1.0.conv1.0.weight", "layer1.0.conv1.1.weight"] && report.unexpected.first == "layer1.0.conv1.weight")
    }

    /// The trainer starts a fresh run from the file, logs what it loaded, reports it in the summary (`init`), and
    /// trains from there.
    @Test func trainingStartsFromTheGivenWeights() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = try Self.descriptor.graph(seed: 42).parameters
        let url = try Self.write(Self.torchvisionFile(fresh, head: 1000), in: dir)
        let summary = try Self.trainOneEpoch(from: url, into: dir.appendingPathComponent("run"))
        let report = try #require(summary.summary.initialization)
        #expect(report.loaded == fresh.names.count - 2 && report.head_skipped.count == 2)
        #expect(summary.log.first == report.lines.first)
        let json = try #require(try JSONSerialization.jsonObject(with: summary.summary.prettyJSON()) as? [String: Any])
        #expect((json["init"] as? [String: Any])?["loaded"] as? Int == fresh.names.count - 2)
        // One epoch of Adam moved the weights from the file's, not from a fresh initialization's.
        let trained = try Checkpoint.read(URL(fileURLWithPath: summary.summary.last_checkpoint)).parameters
        let given = try Safetensors.read(url)["layer1.0.conv1.weight"]!.scalars, after = trained["layer1.0.conv1.weight"]!.scalars
        let moved = zip(given, after).map { abs($0 - $1) }.max()!
        #expect(moved > 0 && moved < 0.05, "Adam at lr 1e-3 for 3 steps moves a weight by at most ~3e-3; moved \(moved)")
    }

    /// One epoch (3 steps of 8) on synthetic images from `file`; the summary and the log lines.
    static func trainOneEpoch(from file: URL, into out: URL, descriptor: ModelDescriptor = descriptor) throws -> (summary: TrainingSummary, log: [String]) {
        var config = TrainingConfig()
        config.epochs = 1; config.batchSize = 8; config.learningRate = 1e-3
        var trainer = Trainer(descriptor: descriptor, config: config, outputDirectory: out, backend: testBackend)
        trainer.showProgress = false
        trainer.initialWeights = InitialWeights(file: file)
        var log: [String] = []
        trainer.log = { log.append($0) }
        let summary = try trainer.run(train: try syntheticSplit(.train, count: 24, seed: 1), val: try syntheticSplit(.val, count: 12, seed: 2))
        return (summary, log)
    }
}
