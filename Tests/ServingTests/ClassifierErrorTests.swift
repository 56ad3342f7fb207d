import Foundation
import GraphCore
import Models
import ONNX
import Serving
import Testing
import Train

/// Each bad input to `Classifier` is refused with the case that says what and where.
@Suite struct ClassifierErrorTests {
    @Test func missingFiles() throws {
        #expect(throws: ClassifierError.noSuchFile(.checkpoint, path: "/no/such.safetensors")) { try Classifier(checkpoint: "/no/such.safetensors") }
        #expect(throws: ClassifierError.noSuchFile(.onnx, path: "/no/such.onnx")) { try Classifier(onnx: "/no/such.onnx") }
        #expect("\(ClassifierError.noSuchFile(.onnx, path: "/no/such.onnx"))" == "ONNX: no such file: /no/such.onnx")
        #expect(throws: ClassifierError.noSuchFile(.onnx, path: "/no/such.onnx")) { try ModelSource.onnx(path: "/no/such.onnx").load() }
    }

    /// Garbage, an empty file and a checkpoint given as ONNX (and the reverse): the reader's message, naming the file.
    @Test func corruptFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let garbage = dir.appendingPathComponent("garbage.bin"), empty = dir.appendingPathComponent("empty.bin")
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: garbage)
        try Data().write(to: empty)
        let checkpoint = try TinyModel().writeCheckpoint(in: dir), onnx = try TinyModel().writeONNX(in: dir)
        for path in [garbage.path, empty.path, onnx] {
            do {
                _ = try Classifier(checkpoint: path)
                Issue.record("\(path) read as a checkpoint")
            } catch let ClassifierError.unreadableModel(format, file, reason) {
                #expect(format == .checkpoint && file == path && reason.contains(path), "\(reason)")
            }
        }
        for path in [garbage.path, empty.path, checkpoint] {
            do {
                _ = try Classifier(onnx: path)
                Issue.record("\(path) read as ONNX")
            } catch let ClassifierError.unreadableModel(format, file, reason) {
                #expect(format == .onnx && file == path && reason.contains(path), "\(reason)")
            }
        }
    }

    @Test func notATwoClassModel() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = TinyModel()
        model.descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1, classes: 3)
        let path = try model.writeCheckpoint(in: dir)
        #expect(throws: ClassifierError.notTwoClasses(path: path, classes: 3)) { try Classifier(checkpoint: path) }
    }

    /// An ONNX model exported for a fixed batch of 2 cannot serve single images.
    @Test func fixedBatchONNX() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1)
        let m = try ModelGraph(try d.layer(), inputShape: [2, 1, 28, 28], seed: 0)
        let url = dir.appendingPathComponent("batch2.onnx")
        try ONNXExporter.write(graph: m.graph, parameters: m.parameters, to: url)
        #expect(throws: ClassifierError.fixedBatch(path: url.path, batch: 2)) { try Classifier(onnx: url.path) }
    }

    @Test(arguments: [("threshold", "1.5", "a number in [0, 1]"), ("threshold", "high", "a number in [0, 1]"),
                      ("temperature", "0", "a positive number"), ("temperature", "-2", "a positive number")])
    func invalidStoredValues(_ key: String, _ text: String, _ expected: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = TinyModel()
        model.info[key] = text
        let checkpoint = try model.writeCheckpoint(in: dir), onnx = try model.writeONNX(in: dir)
        #expect(throws: ClassifierError.invalidStoredValue(origin: "checkpoint \(checkpoint) info \"\(key)\"", text: text, expected: expected)) {
            try Classifier(checkpoint: checkpoint)
        }
        #expect(throws: ClassifierError.invalidStoredValue(origin: "ONNX \(onnx) metadata_props \"pneumo.\(key)\"", text: text, expected: expected)) {
            try Classifier(onnx: onnx)
        }
    }

    @Test func undecodableImages() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        let good = EncodedImage(try Data(contentsOf: URL(fileURLWithPath: fixture("gray8.png"))), name: "good.png")
        let text = EncodedImage(Array("not an image".utf8), name: "upload 2")
        #expect(throws: ClassifierError.undecodableImage(name: "upload 2", kind: .unknownFormat,
                                                         reason: "not a PNG or JPEG file (unrecognised signature 6E 6F 74 20)")) {
            try classifier.classify([good, text])
        }
        let truncated = EncodedImage(try Data(contentsOf: URL(fileURLWithPath: fixture("truncated.png"))), name: "cut.png")
        do {
            _ = try classifier.preprocess([truncated])
            Issue.record("a truncated PNG decoded")
        } catch let ClassifierError.undecodableImage(name, kind, _) {
            #expect(name == "cut.png" && kind == .corrupt)
        }
        do {
            _ = try classifier.preprocess(file: "/no/such.png")
            Issue.record("a missing image file was read")
        } catch let ClassifierError.undecodableImage(name, kind, reason) {
            #expect(name == "/no/such.png" && kind == .unreadable && reason.hasPrefix("cannot read the file"), "\(reason)")
        }
    }

    @Test(arguments: [[2, 3, 28, 28], [0, 1, 28, 28], [1, 28, 28], [1, 1, 32, 32]])
    func wrongShapes(_ shape: [Int]) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        #expect(throws: ClassifierError.wrongShape(expected: [1, 28, 28], got: shape)) { try classifier.classify(Tensor(zeros: shape)) }
        #expect("\(ClassifierError.wrongShape(expected: [1, 28, 28], got: shape))"
                == "the classifier takes a batch [N, 1, 28, 28] with N ≥ 1, got \(describe(shape))")
    }

    @Test func nonFiniteInputsAndThresholds() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(checkpoint: TinyModel().writeCheckpoint(in: dir))
        var values = [Float](repeating: 0, count: 2 * 28 * 28)
        values[28 * 28 + 3 * 28 + 5] = -.infinity
        #expect(throws: ClassifierError.nonFiniteInput(index: [1, 0, 3, 5], value: -.infinity)) {
            try classifier.classify(try Tensor(shape: [2, 1, 28, 28], scalars: values))
        }
        #expect(throws: ClassifierError.invalidThreshold(1.2)) { try classifier.classify(Tensor(zeros: [1, 1, 28, 28]), threshold: 1.2) }
    }
}
