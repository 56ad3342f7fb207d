import Foundation
import Testing
import Data
import GraphCore
import Runtime
import Serving
import TestSupport

/// `bench infer --boundary-check`: the margin measured on the boundary samples, rows timed on the val images with the
/// fraction rerun, and the JSON keys. Measured on the very images it is checked on, the margin exceeds every one of
/// their INT8 changes, so top-1 agreement must be complete (without the check one of these 40 images changes class).
@Suite struct BoundaryCheckBenchmarkTests {
    @Test(.enabled(if: Precision.isSupported(.int8))) func checkedInt8AgreesOnTheImagesItWasMeasuredOn() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("val.npz")
        var rng = SeededRandom(seed: 11)
        let pixels = (0..<(40 * 28 * 28)).map { _ in UInt8(rng.nextUniform() * 255) }   // noise: logits of every kind
        try Data(storedZip([("val_images.npy", npyBytes(descr: "|u1", shape: [40, 28, 28], data: pixels)),
                            ("val_labels.npy", npyBytes(descr: "|u1", shape: [40, 1], data: (0..<40).map { UInt8($0 % 2) }))]))
            .write(to: data)
        let val = try Preprocessing(size: 28, channels: 1).images(try MedMNISTDataset(contentsOf: data).split(.val), evenlySpaced: 40)

        var m = try TinyModel().descriptor.graph(seed: 3)
        // The head's bias moved so that the images' float32 scores straddle 0: some lie nearer the boundary than INT8's
        // changes.
        let scores = try Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], precision: .fp32).run(val).scalars
        let median = (0..<40).map { scores[2 * $0 + 1] - scores[2 * $0] }.sorted()[20]
        let bias = try #require(m.parameters["fc.1.bias"]).scalars
        try m.parameters.set("fc.1.bias", try Tensor(shape: [2], scalars: [bias[0], bias[1] - median]))
        let model = LoadedModel(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28])
        var benchmark = InferenceBenchmark()
        (benchmark.batches, benchmark.runs, benchmark.warmup) = ([8], 3, 1)
        benchmark.precision = .int8
        benchmark.calibration = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: val, source: "40 val")
        benchmark.boundarySamples = (val, "40 val images")
        benchmark.agreementData = data
        let result = try benchmark.run(model)

        let check = try #require(result.boundary_check)
        #expect(check.margin == 1.5 * check.largest_change && check.margin > 0 && check.samples == 40 && check.source == "40 val images")
        #expect(result.timing_inputs == "40 val images of \(data.path)")
        let rerun = try #require(result.results.first?.boundary_rechecked)
        #expect(rerun > 0 && rerun <= 1, "some images lie within the margin (without the check, one of the 40 changes class)")
        #expect(result.top1_agreement_val == 1)
        let json = try result.jsonString()
        for key in ["\"boundary_check\"", "\"boundary_rechecked\"", "\"margin\"", "\"largest_change\"", "\"timing_inputs\""] {
            #expect(json.contains(key), "\(key) in \(json)")
        }
    }

    @Test(.enabled(if: Precision.isSupported(.int8))) func anEmptyValSplitIsAnErrorNotACrash() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("empty.npz")
        try Data(storedZip(splitMembers("val", labels: [], h: 28, w: 28))).write(to: data)
        let m = try TinyModel().descriptor.graph(seed: 3)
        var benchmark = InferenceBenchmark()
        (benchmark.batches, benchmark.runs, benchmark.warmup) = ([2], 1, 0)
        benchmark.precision = .int8
        benchmark.boundarySamples = (randomBatch([4, 1, 28, 28], seed: 1), "random")
        benchmark.agreementData = data
        let error = #expect(throws: (any Error).self) {
            try benchmark.run(LoadedModel(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28]))
        }
        #expect(String(describing: error).contains("no val images"), "\(String(describing: error))")
    }

    @Test func aBoundaryCheckNeedsAnInt8Plan() throws {
        let m = try TinyModel().descriptor.graph(seed: 3)
        var benchmark = InferenceBenchmark()
        (benchmark.batches, benchmark.runs, benchmark.warmup) = ([1], 1, 0)
        benchmark.precision = .fp32
        benchmark.boundarySamples = (randomBatch([4, 1, 28, 28], seed: 1), "random")
        #expect(throws: EngineError.self) {
            try benchmark.run(LoadedModel(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28]))
        }
    }
}
