import Foundation
import GraphCore
@testable import ONNX
import ClinicalMetrics
import Runtime
import Serving
import Testing
import Train

/// `Classifier` from a checkpoint and from the ONNX file exported from it: the stored threshold and temperature,
/// P(pneumonia) = σ((l₁ − l₀)/T) of the runtime's logits, labels at the threshold, batches against single images.
@Suite struct ClassifierTests {
    /// Float32 rounding of plans compiled for different batch sizes (and of the ONNX import's graph) moves P by
    /// far less than this.
    static let tolerance = 1e-5

    @Test func checkpointAndONNXAgree() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fromCheckpoint = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        let fromONNX = try Classifier(onnx: TinyModel().writeONNX(in: dir))
        for c in [fromCheckpoint, fromONNX] {
            #expect(c.sampleShape == [1, 28, 28] && c.channels == 1 && c.inputSize == 28)
            #expect(c.storedThreshold == 0.3 && c.threshold == 0.3 && c.temperature.temperature == 1.5)
        }
        #expect(fromCheckpoint.description.hasPrefix("pneumonet (checkpoint ") && fromCheckpoint.thresholdOrigin == "stored in the checkpoint")
        #expect(fromONNX.description.hasPrefix("pneumonet (ONNX ") && fromONNX.thresholdOrigin == "stored in the ONNX metadata")
        let x = randomBatch([4, 1, 28, 28], seed: 11)
        let (a, b) = (try fromCheckpoint.probabilities(x), try fromONNX.probabilities(x))
        #expect(a.count == 4)
        for (p, q) in zip(a, b) { #expect(abs(p - q) <= Self.tolerance, "checkpoint \(p), ONNX \(q)") }
    }

    /// P is the runtime's softmax(logits / T)[1] with the stored T, and the label is "pneumonia" exactly when P ≥ threshold.
    @Test func probabilityIsTheTemperedSoftmaxOfTheLogits() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = TinyModel()
        let classifier = try Classifier(checkpoint: model.writeCheckpoint(in: dir))
        let m = try model.descriptor.graph(seed: model.seed)
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28])
        let x = randomBatch([6, 1, 28, 28], seed: 5)
        let expected = try TemperatureScaling(temperature: 1.5).apply(try runtime.run(x).positiveClassProbabilities())
        let results = try classifier.classify(x)
        for (r, p) in zip(results, expected) {
            #expect(abs(r.probability - p) <= Self.tolerance)
            #expect(r.threshold == 0.3 && r.label == (r.probability >= 0.3 ? .pneumonia : .normal))
        }
        for t in [0.0, 1.0] {
            #expect(try classifier.classify(x, threshold: t).allSatisfy { $0.threshold == t && $0.label == ($0.probability >= t ? .pneumonia : .normal) })
        }
    }

    @Test func withoutStoredValuesTheThresholdIsOneHalfAndTOne() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = TinyModel()
        model.info = [:]
        for c in [try Classifier(checkpoint: model.writeCheckpoint(in: dir)), try Classifier(onnx: model.writeONNX(in: dir))] {
            #expect(c.storedThreshold == nil && c.threshold == Classifier.defaultThreshold && c.temperature == .identity)
        }
    }

    /// A file that names no pneumo model is described by its producer, and one without a producer by its path alone
    /// (`pneumo serve` logs it: it read "serving tiny version 1:  (ONNX …)").
    @Test func anUnnamedFileIsDescribedByWhatItSays() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = TinyModel()
        model.info = [:]
        let path = try model.writeONNX(in: dir)
        var proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        proto.metadataProps = []
        try proto.serializedData().write(to: URL(fileURLWithPath: path))
        #expect(try Classifier(onnx: path).description == "pneumo 1 (ONNX \(path))")
        proto.producerName = ""; proto.producerVersion = ""
        try proto.serializedData().write(to: URL(fileURLWithPath: path))
        #expect(try Classifier(onnx: path).description == "ONNX \(path)")
    }

    /// A batch gives each image what it gets alone (the server's dynamic batching must not change answers).
    @Test(arguments: [2, 5, 8]) func batchEqualsSerial(_ n: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for classifier in [try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir)), try Classifier(onnx: TinyModel().writeONNX(in: dir))] {
            let x = randomBatch([n, 1, 28, 28], seed: UInt64(n))
            let batched = try classifier.probabilities(x)
            let serial = try rows(of: x).map { try classifier.probabilities($0)[0] }
            for (i, (b, s)) in zip(batched, serial).enumerated() { #expect(abs(b - s) <= Self.tolerance, "image \(i) of \(n): \(b) vs \(s)") }
        }
    }

    /// Concurrent callers (an HTTP server's tasks) share one runtime and get the serial answers.
    @Test func concurrentCallsAgreeWithSerialOnes() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        let batches = (0..<8).map { randomBatch([1 + $0 % 3, 1, 28, 28], seed: UInt64(100 + $0)) }
        let serial = try batches.map { try classifier.probabilities($0) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for (i, batch) in batches.enumerated() { group.addTask { (i, try classifier.probabilities(batch)) } }
            return try await group.reduce(into: [Int: [Double]]()) { $0[$1.0] = $1.1 }
        }
        for i in batches.indices { #expect(concurrent[i] == serial[i], "batch \(i)") }
    }

    /// Encoded bytes are preprocessed as the same files are (MedMNIST: gray, center crop, bicubic resize, ±0.5 scaling).
    @Test func encodedImagesArePreprocessedAsFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        let files = [fixture("gray8.png"), fixture("rgb420.jpg")]
        let encoded = try files.map { EncodedImage(try Data(contentsOf: URL(fileURLWithPath: $0)), name: $0) }
        let batch = try classifier.preprocess(encoded)
        #expect(batch.shape == [2, 1, 28, 28])
        let fromFiles = try files.map { try classifier.preprocess(file: $0) }
        #expect(try rows(of: batch).map(\.scalars) == fromFiles.map(\.scalars))
        let results = try classifier.classify(encoded)
        let alone = try fromFiles.map { try classifier.classify($0)[0] }
        for (r, a) in zip(results, alone) { #expect(abs(r.probability - a.probability) <= Self.tolerance) }
        #expect(try classifier.classify([EncodedImage]()).isEmpty)
    }

    /// `precision` reaches the runtime: FP16 moves P by less than 1e-2 on this model (its weights rounded to half; the
    /// arithmetic stays float32), and what cannot run is refused when loading, naming the file and why.
    @Test func precisionReachesTheRuntimeOrIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (checkpoint, onnx) = (try TinyModel().writeCheckpoint(in: dir), try TinyModel().writeONNX(in: dir))
        #expect(try Classifier(onnx: onnx).runtime.precision == .fp32)
        let x = randomBatch([4, 1, 28, 28], seed: 13)
        if Precision.isSupported(.fp16) {
            let (full, half) = (try Classifier(checkpoint: checkpoint), try Classifier(checkpoint: checkpoint, precision: .fp16))
            #expect(half.runtime.precision == .fp16)
            let (p, q) = (try full.probabilities(x), try half.probabilities(x))
            #expect(zip(p, q).allSatisfy { abs($0 - $1) < 1e-2 } && p != q, "fp32 \(p), fp16 \(q)")
        }
        #expect(throws: ClassifierError.self) { try Classifier(onnx: onnx, precision: .int8) }
        do {
            _ = try Classifier(onnx: onnx, precision: .int8)
        } catch let error as ClassifierError {
            guard case let .unsupportedPrecision(precision, path, reason) = error else { Issue.record("\(error)"); return }
            #expect(precision == .int8 && path == onnx)
            #expect(reason.contains(Precision.isSupported(.int8) ? "float model" : ""), "\(reason)")
            #expect(error.description.hasPrefix("\(onnx) cannot run in int8: "), "\(error.description)")
        }
        for p in Precision.allCases where !Precision.isSupported(p) {
            #expect(throws: ClassifierError.unsupportedPrecision(p, path: checkpoint, reason: Precision.unsupportedReason(p)!)) {
                try Classifier(checkpoint: checkpoint, precision: p)
            }
        }
    }
}
