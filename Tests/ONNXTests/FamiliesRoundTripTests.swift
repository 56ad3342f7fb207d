import Foundation
import Testing
@testable import CPUBackend
import GraphCore
@testable import ONNX
import Runtime
import TestSupport

// `familiesGraph` (every op of MobileNetV3 and EfficientNet, built in Swift) exported and imported again at the export
// settings of the other round-trip tests, and under the ONNX checker and ONNX Runtime where python3 has them.

/// Export and import change no arithmetic (the same float32 ops on the same values, swish written as x·σ(x)): 1e-6.
private let roundTripTolerance = Tolerance(abs: 1e-6, rel: 1e-6)
/// Our compiled plan vs ONNX Runtime on our file: kernels summing in other orders (FamiliesExportTests' bound).
private let peerTolerance = Tolerance(abs: 1e-4, rel: 1e-4)

@Suite("familiesGraph through ONNX")
struct FamiliesRoundTripTests {
    @Test(arguments: exportSettings)
    func roundTrip(_ setting: ExportSetting) throws {
        let (g, p) = try familiesGraph(batch: 1)
        let data = try ONNXExporter.export(graph: g, parameters: p, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        let imported = try ONNXImporter.load(data: data)
        #expect(imported.parameters.trainableNames == p.trainableNames)
        let batch = setting.dynamicBatch ? 3 : 1
        let x = TestData.normal([batch, 3, 12, 12], seed: 6)
        var (q, rng) = (p, SeededRandom(seed: 0))
        let original = try Executor(graph: g, backend: ReferenceBackend()).forward(feeds: ["image": x], parameters: &q, mode: .inference, rng: &rng)
        expectClose(try imported.run(x, backend: ReferenceBackend())[0], original[g.outputs[0]]!, roundTripTolerance,
                    "families (\(setting.testDescription)): imported vs built")
        // Hard-swish at opset 13 is x · HardSigmoid(x, 1/6, 1/2); from 14 its own op.
        let ops = Set(try Onnx_ModelProto(serializedBytes: data).graph.node.map(\.opType))
        #expect(ops.contains("HardSwish") == (setting.opset >= 14))
        #expect(ops.isSuperset(of: ["Sub", "Div", "Mul", "Sigmoid", "HardSigmoid", "Softmax", "Transpose", "Pad", "Concat", "ReduceMean"]))
    }

    @Test(.enabled(if: PythonPeer.available, "needs python3 with onnx and onnxruntime"), arguments: exportSettings)
    func checkerAndRuntime(_ setting: ExportSetting) throws {
        let (g, p) = try familiesGraph(batch: 1)
        let dir = try temporaryDirectory("families")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("families.onnx")
        try ONNXExporter.write(graph: g, parameters: p, to: url, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        let x = TestData.normal([setting.dynamicBatch ? 3 : 1, 3, 12, 12], seed: 7)
        let ort = try PythonPeer.checkAndRun(url, input: x)
        let model = try ONNXModel(contentsOf: url)
        let plan = try InferencePlan(graph: model.graph, parameters: model.parameters, inputName: model.inputName, inputShape: x.shape)
        expectClose(try plan.run(x), ort, peerTolerance, "families (\(setting.testDescription)): our plan vs ONNX Runtime")
    }
}
