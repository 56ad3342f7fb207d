import Foundation
import Testing
@testable import CPUBackend
import GraphCore
import Models
import NN
@testable import ONNX
import TestSupport

// IR → ONNX → IR: the imported graph is the exported one (same ops, attributes, node and parameter names,
// parameter values bit for bit), so on the same backend it computes the same outputs bit for bit. Dropout
// is the one op that does not survive (an inference export leaves it out; it is the identity there).

struct RoundTripCase: Sendable, CustomTestStringConvertible {
    var name: String
    var inputShape: [Int]
    var build: @Sendable () throws -> any Layer
    var testDescription: String { name }
}

let roundTripCases: [RoundTripCase] = [
    RoundTripCase(name: "resnet18 width 0.125, 32 px", inputShape: [1, 3, 32, 32]) { ResNet18(width: 0.125) },
    RoundTripCase(name: "baseline (bilinear 24 → 48) width 0.125", inputShape: [1, 3, 24, 24]) {
        ResNet18(width: 0.125, upsampleTo: 48)
    },
    RoundTripCase(name: "mobilenetv2 width 0.25, 32 px", inputShape: [1, 3, 32, 32]) { try MobileNetV2(width: 0.25) },
    RoundTripCase(name: "pneumonet, 1 channel, 28 px", inputShape: [1, 1, 28, 28]) { try PneumoNet() },
]

struct ExportSetting: Sendable, CustomTestStringConvertible {
    var opset: Int
    var dynamicBatch: Bool
    var testDescription: String { "opset \(opset)\(dynamicBatch ? ", dynamic batch" : "")" }
}

let exportSettings = [ExportSetting(opset: 13, dynamicBatch: false), ExportSetting(opset: 17, dynamicBatch: true),
                      ExportSetting(opset: 18, dynamicBatch: true)]

/// The model's parameters with every tensor drawn at random (running variances positive), so that batch-norm
/// in inference mode is not the identity and a swapped tensor would show.
func randomizedParameters(_ store: ParameterStore, seed: UInt64) throws -> ParameterStore {
    var result = store
    var rng = SeededRandom(seed: seed)
    for name in store.names {
        let shape = store[name]!.shape
        let t: Tensor = if name.hasSuffix("running_var") || name.hasSuffix(".weight") && shape.count == 1 {
            .randomUniform(shape, low: 0.5, high: 1.5, using: &rng)
        } else if shape.count == 1 {
            .randomNormal(shape, std: 0.2, using: &rng)
        } else {
            store[name]!
        }
        try result.set(name, t)
    }
    return result
}

func runGraph(_ graph: Graph, _ parameters: ParameterStore, _ x: Tensor, backend: any Backend) throws -> Tensor {
    var p = parameters
    var rng = SeededRandom(seed: 0)
    let pass = try Executor(graph: graph, backend: backend).forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)
    return pass[graph.outputs[0]]!.contiguous()
}

@Suite("Export then import gives back the same graph")
struct RoundTripTests {
    @Test(arguments: roundTripCases, exportSettings)
    func roundTrip(_ c: RoundTripCase, _ setting: ExportSetting) throws {
        let m = try ModelGraph(try c.build(), inputShape: c.inputShape, seed: 3)
        let parameters = try randomizedParameters(m.parameters, seed: 4)
        let data = try ONNXExporter.export(graph: m.graph, parameters: parameters, opset: setting.opset,
                                           dynamicBatch: setting.dynamicBatch)
        let imported = try ONNXImporter.load(data: data)

        #expect(imported.inputName == "image")
        #expect(imported.outputNames == ["logits"])
        #expect(imported.dynamicBatch == setting.dynamicBatch)
        #expect(imported.inputShape == c.inputShape)
        #expect(imported.opset == setting.opset)

        // Parameters: same names in the same (state-dict) order, same trainable split, same bits.
        #expect(imported.parameters.names == parameters.names)
        #expect(imported.parameters.trainable == parameters.trainable)
        for name in parameters.names {
            #expect(imported.parameters[name]?.scalars == parameters[name]!.scalars, "parameter \(name)")
        }

        // Ops: the same sequence, attributes and names, dropout left out.
        let original = m.graph.nodes.filter { node in
            if node.op.isLeaf { return false }
            if case .dropout = node.op { return false }
            return true
        }
        let back = imported.graph.nodes.filter { !$0.op.isLeaf }
        #expect(back.count == original.count)
        for (a, b) in zip(original, back) {
            #expect(b.name == a.name, "node name of \(a.op.kindName)")
            #expect(b.shape == a.shape, "shape of \(a.op.kindName) '\(a.name)'")
            switch (a.op, b.op) {
            case (.batchNorm2d(let x), .batchNorm2d(let y)):
                // ONNX stores 1 − momentum as float32: 1 − (1 − m) is m within an ulp of 1.
                #expect(x.epsilon == y.epsilon)
                #expect(abs(x.momentum - y.momentum) < 1e-6)
            default:
                #expect(a.op == b.op, "op of '\(a.name)'")
            }
        }

        // Outputs: identical graphs on the same kernels are bit-identical; batch 2 also checks that a
        // batch-1 export runs at any batch.
        let backend = try DNNLBackend()
        let x = TestData.normal([2] + c.inputShape.dropFirst(), seed: 5)
        let expected = try runGraph(m.graph, parameters, x, backend: backend)
        let actual = try imported.run(x, backend: backend)
        #expect(actual.count == 1)
        expectClose(actual[0], expected, .exact, "\(c.name) logits after the round trip")
    }

    /// Export → import → export writes the same bytes: nothing is lost or renamed on the way.
    @Test(arguments: exportSettings)
    func reexportIsIdentical(_ setting: ExportSetting) throws {
        let m = try ModelGraph(ResNet18(width: 0.125, upsampleTo: 40), inputShape: [1, 3, 24, 24], seed: 3)
        let first = try ONNXExporter.export(graph: m.graph, parameters: m.parameters, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        let imported = try ONNXImporter.load(data: first)
        let second = try ONNXExporter.export(graph: imported.graph, parameters: imported.parameters, opset: setting.opset,
                                             dynamicBatch: setting.dynamicBatch)
        #expect(first == second)
    }

    @Test func exportedFileLayout() throws {
        let m = try ModelGraph(ResNet18(width: 0.125, upsampleTo: 48), inputShape: [1, 3, 24, 24], seed: 3)
        for (opset, dynamic) in [(17, true), (18, true), (13, false)] {
            let data = try ONNXExporter.export(graph: m.graph, parameters: m.parameters, opset: opset, dynamicBatch: dynamic,
                                               metadata: ["pneumo.threshold": "0.5"])
            let proto = try Onnx_ModelProto(serializedBytes: data)
            let g = proto.graph
            #expect(proto.opsetImport.map(\.version) == [Int64(opset)])
            #expect(proto.metadataProps.map(\.key) == ["pneumo.threshold"])
            #expect(g.input.map(\.name) == ["image"])
            #expect(g.output.map(\.name) == ["logits"])
            let batchDim = g.input[0].type.tensorType.shape.dim[0]
            #expect(dynamic ? batchDim.dimParam == "batch" : batchDim.dimValue == 1)
            // Initializers carry the state-dict names in order (plus the Resize sizes constant).
            let floatInitializers = g.initializer.filter { $0.dataType == 1 }.map(\.name)
            #expect(floatInitializers == m.parameters.names)
            #expect(floatInitializers.contains("layer1.0.conv1.weight"))
            #expect(floatInitializers.contains("layer4.1.bn2.running_var"))
            let names = g.node.map(\.name)
            #expect(names.contains("layer1.0.conv1/Conv"))
            #expect(names.contains("layer1.0/Relu_1"))
            #expect(names.contains("fc.1/Gemm"))
            #expect(!g.node.contains { $0.opType == "Dropout" })
            let resize = try #require(g.node.first { $0.opType == "Resize" })
            let attributes = Dictionary(uniqueKeysWithValues: resize.attribute.map { ($0.name, $0) })
            #expect(attributes["mode"]?.s == Data("linear".utf8))
            #expect(attributes["coordinate_transformation_mode"]?.s == Data("half_pixel".utf8))
            // A dynamic batch before opset 18 computes the sizes from Shape; at 18 it names the axes.
            #expect(g.node.contains { $0.opType == "Shape" } == (dynamic && opset < 18))
            #expect((attributes["axes"]?.ints == [2, 3]) == (dynamic && opset >= 18))
        }
    }

    @Test func relu6IsClipWithInputBounds() throws {
        let m = try ModelGraph(try MobileNetV2(width: 0.25), inputShape: [1, 3, 32, 32])
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.export(graph: m.graph, parameters: m.parameters))
        let clips = proto.graph.node.filter { $0.opType == "Clip" }
        #expect(!clips.isEmpty)
        #expect(clips.allSatisfy { $0.input.count == 3 && $0.attribute.isEmpty })
    }

    /// A training graph (logits and loss, inputs image and label) exports its inference part only.
    @Test func trainingGraphExportsLogitsOnly() throws {
        let m = try ModelGraph.training(ResNet18(width: 0.125), inputShape: [4, 3, 32, 32])
        let imported = try ONNXImporter.load(data: try ONNXExporter.export(graph: m.graph, parameters: m.parameters))
        #expect(imported.inputName == "image")
        #expect(imported.graph.outputs.count == 1)
        #expect(imported.graph[imported.graph.outputs[0]].shape == [4, 2])
    }

    @Test func exportErrors() throws {
        let m = try ModelGraph(ResNet18(width: 0.125), inputShape: [1, 3, 32, 32])
        let e = onnxError { _ = try ONNXExporter.export(graph: m.graph, parameters: m.parameters, opset: 12) }
        #expect(e?.kind == .unsupported)
        #expect(e?.message.contains("opset 12 is not supported") == true)

        var missing = ParameterStore()
        for name in m.parameters.names.dropLast() { missing.declare(name, m.parameters[name]!, trainable: true) }
        let e2 = onnxError { _ = try ONNXExporter.export(graph: m.graph, parameters: missing) }
        #expect(e2?.message.contains("no value for parameter 'fc.1.bias'") == true)
    }

    /// `write` goes through a temporary sibling and a rename: only the target path is left.
    @Test func writeLeavesOnlyTheTarget() throws {
        let dir = try temporaryDirectory("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try ModelGraph(ResNet18(width: 0.125), inputShape: [1, 3, 32, 32])
        let url = dir.appendingPathComponent("model.onnx")
        try ONNXExporter.write(graph: m.graph, parameters: m.parameters, to: url, dynamicBatch: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.onnx"])
        let model = try ONNXModel(contentsOf: url)
        #expect(model.dynamicBatch)
    }
}
