import CPUBackend
import Foundation
import Testing
import GraphCore
import Models
import NN
import Runtime
@testable import ONNX
import TestSupport

// Quantized models (Int8Quantization's fakeQuantize graphs) as QDQ ONNX files: the exported layout, the
// round trip back to the same graph, and ONNX Runtime running the file with its int8 kernels.

// The cases are `RoundTripCase`s (name, input shape, layer builder), quantized here.
extension RoundTripCase {
    /// The model with random parameters (batch-norm not the identity), batch-norm folded and quantized on
    /// 16 random calibration samples, with `weights`' range.
    func quantized(weights: Int8WeightRange = .full) throws -> (graph: Graph, parameters: ParameterStore) {
        let m = try ModelGraph(try build(), inputShape: inputShape, seed: 3)
        let parameters = try randomizedParameters(m.parameters, seed: 4)
        let samples = TestData.normal([16] + inputShape.dropFirst(), seed: 8)
        let calibration = try Int8Calibration(graph: m.graph, parameters: parameters, samples: samples, source: "test")
        let r = try Int8Quantization.quantize(m.graph, parameters, calibration: calibration, weights: weights)
        return (r.graph, r.parameters)
    }
}

let quantizedCases: [RoundTripCase] = [
    RoundTripCase(name: "resnet18 width 0.125, 1 channel, 32 px", inputShape: [1, 1, 32, 32]) { ResNet18(inChannels: 1, width: 0.125) },
    RoundTripCase(name: "mobilenetv2 width 0.25, 32 px", inputShape: [1, 3, 32, 32]) { try MobileNetV2(inChannels: 3, width: 0.25) },
]

/// The oldest opset with per-axis DequantizeLinear at a fixed batch, and the default and newest at a symbolic one.
let quantizedExportSettings = [ExportSetting(opset: 13, dynamicBatch: false), ExportSetting(opset: 17, dynamicBatch: true),
                               ExportSetting(opset: 21, dynamicBatch: true)]

/// 10·log10(Σ ref² / Σ (ref − x)²), in dB.
func sqnr(_ reference: Tensor, _ x: Tensor) -> Double {
    let (r, a) = (reference.scalars, x.scalars)
    let signal = r.reduce(0.0) { $0 + Double($1) * Double($1) }
    let noise = zip(r, a).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
    return 10 * log10(signal / max(noise, 1e-300))
}

private func grids(_ g: Graph) -> [QuantizationAttributes] {
    g.nodes.compactMap { if case .fakeQuantize(let q) = $0.op { q } else { nil } }
}

private func floats(_ t: Onnx_TensorProto) -> [Float] {
    let raw = [UInt8](t.rawData)
    return stride(from: 0, to: raw.count, by: 4).map { i in
        Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
    }
}

private func integers(_ t: Onnx_TensorProto) -> [Int64] {
    let raw = [UInt8](t.rawData)
    switch ONNXDataType(rawValue: t.dataType) {
    case .int8: return raw.map { Int64(Int8(bitPattern: $0)) }
    case .uint8: return raw.map { Int64($0) }
    case .int32: return stride(from: 0, to: raw.count, by: 4).map { i in
        Int64(Int32(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24))
    }
    default: return []
    }
}

@Suite("Quantized models export as QDQ ONNX and import back")
struct QuantizedExportTests {
    /// IR → QDQ ONNX → IR gives back the quantized graph: the same ops (fakeQuantize with the same scale
    /// and signedness, under the same node names), the same parameter names and the same parameter bits —
    /// the weights were on their grids and `max|w_k| / 127` (`/ 63` for 7-bit weights) is in float32 the scale that
    /// wrote them, so `q · s_k` is the weight again, and the bias scale `s_x · s_k` is the product the rewrite rounded
    /// onto (tolerance: exact) — so the interpreter computes the same logits bit for bit, and exporting again
    /// writes the same bytes. Both weight ranges, at each export setting.
    @Test(arguments: quantizedCases, quantizedExportSettings)
    func roundTrip(_ c: RoundTripCase, _ setting: ExportSetting) throws {
        for range in Int8WeightRange.allCases { try roundTrip(c, setting, range) }
    }

    private func roundTrip(_ c: RoundTripCase, _ setting: ExportSetting, _ range: Int8WeightRange) throws {
        let (graph, parameters) = try c.quantized(weights: range)
        let data = try ONNXExporter.export(graph: graph, parameters: parameters, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        let imported = try ONNXImporter.load(data: data)

        let (before, after) = (grids(graph), grids(imported.graph))
        #expect(before.count > 10)
        #expect(after == before)
        // Names as in the store; the order is the graph's (folding appended the biases to the store).
        #expect(imported.parameters.names.sorted() == parameters.names.sorted())
        for name in parameters.names {
            #expect(imported.parameters[name]?.scalars == parameters[name]!.scalars, "parameter \(name)")
        }
        let original = graph.nodes.filter { !$0.op.isLeaf }, back = imported.graph.nodes.filter { !$0.op.isLeaf }
        #expect(back.map(\.op) == original.map(\.op))
        #expect(back.map(\.name) == original.map(\.name))

        let x = TestData.normal([2] + c.inputShape.dropFirst(), seed: 5)
        let expected = try runGraph(graph, parameters, x, backend: ReferenceBackend())
        expectClose(try imported.run(x, backend: ReferenceBackend())[0], expected, .exact, "\(c.name): logits after the round trip")

        let again = try ONNXExporter.export(graph: imported.graph, parameters: imported.parameters, opset: setting.opset,
                                           dynamicBatch: setting.dynamicBatch)
        #expect(again == data)
    }

    /// The file's QDQ layout, which ONNX Runtime's optimizer matches: a Q → DQ pair per fakeQuantize sharing
    /// a scalar scale and a typed zero point 0; every conv weight an int8 initializer with per-channel scales
    /// through `DequantizeLinear(axis 0)` and integers up to the weight range's limit (reached in every channel
    /// but an all-zero one), every conv bias int32 on `s_x · s_k`.
    @Test(arguments: quantizedCases, Int8WeightRange.allCases)
    func layout(_ c: RoundTripCase, _ range: Int8WeightRange) throws {
        let (graph, parameters) = try c.quantized(weights: range)
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.export(graph: graph, parameters: parameters))
        let g = proto.graph
        let initializer = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
        let producer = Dictionary(uniqueKeysWithValues: g.node.map { ($0.output[0], $0) })
        let fakeQuantizes = graph.nodes.filter { if case .fakeQuantize = $0.op { true } else { false } }

        let quantizes = g.node.filter { $0.opType == "QuantizeLinear" }
        #expect(quantizes.count == fakeQuantizes.count)
        for (q, node) in zip(quantizes, fakeQuantizes) {
            guard case .fakeQuantize(let grid) = node.op else { continue }
            #expect(q.name.hasPrefix("\(node.name)/QuantizeLinear"))  // `_1` … where a block quantizes twice
            let dq = try #require(g.node.first { $0.input.first == q.output[0] })
            #expect(dq.opType == "DequantizeLinear" && dq.input.dropFirst() == q.input.dropFirst())
            let (scale, zero) = (try #require(initializer[q.input[1]]), try #require(initializer[q.input[2]]))
            #expect(scale.dims.isEmpty && scale.dataType == ONNXDataType.float.rawValue)
            #expect(scale.rawData == tensorProto(name: "", Tensor(scalar: grid.scale)).rawData)
            #expect(zero.dims.isEmpty && zero.dataType == (grid.unsigned ? ONNXDataType.uint8 : .int8).rawValue && integers(zero) == [0])
        }

        let convs = g.node.filter { $0.opType == "Conv" }
        #expect(convs.count == graph.nodes.filter { if case .conv2d = $0.op { true } else { false } }.count)
        for conv in convs {
            #expect(producer[conv.input[0]]?.opType == "DequantizeLinear", "\(conv.name) input")
            let w = try #require(producer[conv.input[1]])
            #expect(w.opType == "DequantizeLinear" && w.attribute.map(\.name) == ["axis"] && w.attribute[0].i == 0)
            #expect(w.input == [conv.input[1] + "_quantized", conv.input[1] + "_scale", conv.input[1] + "_zero_point"])
            let (values, scales) = (try #require(initializer[w.input[0]]), try #require(initializer[w.input[1]]))
            #expect(values.dataType == ONNXDataType.int8.rawValue)
            // s_k = max|w_k| / limit: each channel's largest |integer| is the limit.
            let q = integers(values), per = q.count / Int(values.dims[0])
            let channelMaxima = (0..<Int(values.dims[0])).map { k in q[(k * per)..<((k + 1) * per)].map { abs($0) }.max()! }
            #expect(channelMaxima.allSatisfy { $0 == Int64(range.limit) || $0 == 0 }, "\(conv.name), \(range.rawValue): \(channelMaxima)")
            #expect(scales.dims == [values.dims[0]])
            #expect(integers(try #require(initializer[w.input[2]])).allSatisfy { $0 == 0 })
            #expect(parameters[conv.input[1]] != nil && initializer[conv.input[1]] == nil)
            if conv.input.count == 3 {
                let b = try #require(producer[conv.input[2]])
                #expect(b.opType == "DequantizeLinear" && b.input.count == 2)
                #expect(initializer[b.input[0]]?.dataType == ONNXDataType.int32.rawValue)
                // s_x · s_k, s_x the scale of the input's fake-quantize.
                let input = try #require(producer[conv.input[0]])
                let sx = try #require(initializer[input.input[1]])
                #expect(floats(try #require(initializer[b.input[1]])) == floats(scales).map { floats(sx)[0] * $0 })
            }
        }
        // Float initializers: what is not a conv weight or bias (the classifier, the scales).
        #expect(!g.initializer.contains { $0.dataType == ONNXDataType.float.rawValue && $0.name.hasSuffix(".weight") && $0.dims.count == 4 })
    }

    /// An unquantized graph exports as before: no Q/DQ, float weights.
    @Test func floatGraphsStayFloat() throws {
        let m = try ModelGraph(ResNet18(width: 0.125), inputShape: [1, 3, 32, 32])
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.export(graph: m.graph, parameters: m.parameters))
        #expect(!proto.graph.node.contains { $0.opType.hasSuffix("QuantizeLinear") })
        #expect(proto.graph.initializer.filter { $0.dataType == ONNXDataType.float.rawValue }.map(\.name) == m.parameters.names)
    }

    /// A conv weight that something besides a conv reads stays float (the reader needs the float tensor).
    @Test func sharedWeightStaysFloat() throws {
        let b = GraphBuilder()
        let x = b.input("image", shape: [1, 2, 4, 4])
        let w = try b.parameter("w", shape: [2, 2, 1, 1], initializer: .normal(std: 1))
        let q = try b.apply(.fakeQuantize(QuantizationAttributes(scale: 0.05, unsigned: false)), [x])
        let y = try q.conv2d(weight: w, bias: nil, Conv2dAttributes())
        b.markOutputs([y, try w.flatten(startDim: 0)])
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.export(graph: b.graph, parameters: b.parameters))
        #expect(proto.graph.initializer.contains { $0.name == "w" && $0.dataType == ONNXDataType.float.rawValue })
        #expect(proto.graph.node.filter { $0.opType == "DequantizeLinear" }.count == 1)
    }
}

// MARK: importing QDQ forms

private func load(_ m: Onnx_ModelProto) throws -> ONNXModel { try ONNXImporter.load(data: ProtoBuilder.bytes(m)) }

@Suite("Importer: QuantizeLinear and DequantizeLinear")
struct QDQImportTests {
    let x = TestData.normal([2, 1, 6, 6], seed: 9)

    /// The hand-built QDQ model is `smallModel` with the dequantized weights, run on the fake-quantized
    /// input: one fakeQuantize (int8, 0.05), parameters `q · s` bit for bit under the torch-style names.
    @Test func handBuiltModel() throws {
        let model = try load(ProtoBuilder.quantizedSmallModel())
        #expect(grids(model.graph) == [QuantizationAttributes(scale: 0.05, unsigned: false)])
        #expect(model.graph.nodes.first { if case .fakeQuantize = $0.op { true } else { false } }?.name == "x.quantize")
        #expect(model.parameters.names == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"])
        let q: [Float] = (0..<18).map { Float(($0 * 37) % 255 - 127) }
        let weight = q.enumerated().map { $0.element * ($0.offset < 9 ? Float(0.01) : 0.02) }
        #expect(model.parameters["conv.weight"]?.scalars == weight)
        #expect(model.parameters["conv.bias"]?.scalars == [100 * (Float(0.05) * 0.01), -200 * (Float(0.05) * 0.02)])

        var float = ProtoBuilder.smallModel()
        float.graph.initializer[0] = tensorProto(name: "conv.weight", try Tensor(shape: [2, 1, 3, 3], scalars: weight))
        float.graph.initializer[1] = tensorProto(name: "conv.bias", model.parameters["conv.bias"]!)
        let grid = QuantizationAttributes(scale: 0.05, unsigned: false)
        let fq = try Tensor(shape: x.shape, scalars: x.scalars.map(grid.apply))
        expectClose(try model.run(x, backend: ReferenceBackend())[0], try load(float).run(fq, backend: ReferenceBackend())[0],
                    .exact, "QDQ model vs float model on the fake-quantized input")
    }

    /// Without zero points a pair is uint8 (the ONNX default), and Q and DQ may hold equal scales in
    /// separate initializers.
    @Test func defaultZeroPointAndSeparateScales() throws {
        var m = ProtoBuilder.quantizedSmallModel()
        m.graph.initializer.append(tensorProto(name: "x.scale.dq", Tensor(scalar: 0.05)))
        m.graph.node[0].input = ["x", "x.scale"]
        m.graph.node[1].input = ["xq", "x.scale.dq"]
        #expect(grids(try load(m).graph) == [QuantizationAttributes(scale: 0.05, unsigned: true)])
    }

    /// Other quantizers' weight forms: uint8 with a zero point and one scale for the tensor, values in
    /// `int32_data`, a 1-element scale vector; a Gemm weight. Each folds to `(q − zp) · s`.
    @Test func otherWeightForms() throws {
        var m = ProtoBuilder.quantizedSmallModel()
        let q: [Int32] = (0..<18).map { Int32($0 * 14) }
        m.graph.initializer[2] = ProtoBuilder.int32Field("conv.weight_quantized", q, shape: [2, 1, 3, 3], type: .uint8)
        m.graph.initializer[3] = tensorProto(name: "conv.weight_scale", try Tensor(shape: [1], scalars: [0.01]))
        m.graph.initializer[4] = integerTensorProto(name: "conv.weight_zero_point", [128], shape: [1], type: .uint8)
        m.graph.initializer[7] = integerTensorProto(name: "fc.weight_quantized", [1, -2, 3, -4, 5, -6], shape: [3, 2], type: .int8)
        m.graph.initializer.append(tensorProto(name: "fc.weight_scale", Tensor(scalar: 0.5)))
        m.graph.node.insert(ProtoBuilder.node("DequantizeLinear", ["fc.weight_quantized", "fc.weight_scale"], ["fc.weight"]), at: 4)
        let model = try load(m)
        #expect(model.parameters["conv.weight"]?.scalars == q.map { Float($0 - 128) * 0.01 })
        #expect(model.parameters["fc.weight"]?.scalars == [0.5, -1, 1.5, -2, 2.5, -3])
        #expect(model.parameters.names == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"])
    }

    /// Parameters are keyed by value, named by preference: two dequantizations of one initializer and a float
    /// initializer with the stripped name are three parameters (`w`, `w_1`, `w_2`, in order of use), each
    /// with its own values.
    @Test func dequantizedNamesDoNotCollide() throws {
        let conv = { (input: String, weight: String, output: String) in ProtoBuilder.node("Conv", [input, weight], [output], name: output) }
        let m = ProtoBuilder.model(input: [1, 1, 4, 4], nodes: [
            ProtoBuilder.node("DequantizeLinear", ["w_quantized", "s1"], ["wa"]),
            ProtoBuilder.node("DequantizeLinear", ["w_quantized", "s2"], ["wb"]),
            conv("x", "wa", "c1"), conv("c1", "wb", "c2"), conv("c2", "w", "y"),
        ], initializers: [integerTensorProto(name: "w_quantized", [3], shape: [1, 1, 1, 1], type: .int8),
                          tensorProto(name: "s1", Tensor(scalar: 0.5)), tensorProto(name: "s2", Tensor(scalar: 0.25)),
                          tensorProto(name: "w", try Tensor(shape: [1, 1, 1, 1], scalars: [7]))])
        let model = try load(m)
        #expect(model.parameters.names == ["w", "w_1", "w_2"])
        #expect([model.parameters["w"]!, model.parameters["w_1"]!, model.parameters["w_2"]!].map(\.scalars) == [[1.5], [0.75], [7]])
    }
}

// MARK: ONNX Runtime

/// Checks the file (full_check), runs it in ONNX Runtime with every optimization (QDQ fusion included),
/// saves the outputs and prints the optimized graph's op counts as JSON.
private let ortScript = """
    import sys, json, collections, numpy as np, onnx, onnxruntime as ort
    path, inp, out, optimized = sys.argv[1:5]
    onnx.checker.check_model(onnx.load(path), full_check=True)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.optimized_model_filepath = optimized
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: np.load(inp)})[0]
    np.save(out, y.astype(np.float32))
    print(json.dumps(collections.Counter(n.op_type for n in onnx.load(optimized).graph.node)))
    """

@Suite("Quantized files run in ONNX Runtime with int8 kernels", .enabled(if: PythonPeer.available, "needs python3 with onnx and onnxruntime"))
struct QuantizedPeerTests {
    /// ONNX Runtime fuses the QDQ layout into QLinearConv and computes in integers what the interpreter
    /// computes in float32 on the grids. They differ only where a value lies within float32 rounding of a
    /// grid midpoint: ORT requantizes with `acc · (s_x s_w / s_y)`, we divide the float sum by `s_y`, so such
    /// a value lands one step apart and the step travels on. Measured (ORT 1.32, AVX-512 VNNI), logits:
    /// 136 dB (ResNet-18) and 123 dB (MobileNetV2) at batch 8, 136 and 128 dB at batch 1, max |Δ| 4e-7 —
    /// no value a step apart; over 256 samples one ResNet sample was (|Δ| 8e-3 on logits of ±1.5).
    /// Required: SQNR ≥ 40 dB, and at batch 8 at least 6 samples equal within 1e-5 · max|logit| (room for
    /// two samples a step apart). Against ORT on the same file with one initializer damaged, that sample
    /// test caught every doubled activation scale and every conv's reversed channel scales in ResNet (0 of 8
    /// samples equal), most in MobileNetV2 (0–7), and a one-step change (a zero point or a bias integer
    /// off by one in one layer) only sometimes: such a change is as small as the rounding it must allow.
    /// The round-trip and layout tests pin the exact values.
    ///
    /// Which convolutions ORT fuses (measured): 12 of ResNet-18's 20 and 25 of MobileNetV2's 52. The rest
    /// stay float convolutions between DequantizeLinear nodes: a conv whose result goes unquantized into a
    /// residual Add (the INT8 plan fuses conv + add + ReLU, so there is no grid in between), and in
    /// MobileNetV2 a conv whose input and output grids differ in signedness (ORT's QDQ conv selector wants
    /// u8 → u8 or s8 → s8).
    ///
    /// Weights: both ranges where the CPU has VNNI; 7-bit only where it lacks it. There ORT's int8 kernels add
    /// u8·s8 product pairs in saturating 16-bit arithmetic (`vpmaddubsw`), so 8-bit weights change ORT's results,
    /// not ours: measured on an AVX2-only EPYC (Zen 3), ResNet-18 23.5–31.2 dB and 0 of 8 samples equal, MobileNetV2
    /// 0 of 8 equal; with 7-bit weights 131–132 dB and 121–126 dB. That is what 7-bit weights (`Int8Quantization`
    /// with `.reduced`) are for.
    @Test(arguments: quantizedCases, quantizedExportSettings)
    func runtimeAgrees(_ c: RoundTripCase, _ setting: ExportSetting) throws {
        for range in ortExactRanges { try runtimeAgrees(c, setting, range) }
    }

    /// The weight ranges ONNX Runtime's int8 kernels compute exactly on this CPU (above).
    private var ortExactRanges: [Int8WeightRange] { CPUDevice.hasVNNI ? [.full, .reduced] : [.reduced] }

    private func runtimeAgrees(_ c: RoundTripCase, _ setting: ExportSetting, _ range: Int8WeightRange) throws {
        let (graph, parameters) = try c.quantized(weights: range)
        let dir = try temporaryDirectory("qdq")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.onnx")
        try ONNXExporter.write(graph: graph, parameters: parameters, to: url, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        let x = TestData.normal([setting.dynamicBatch ? 8 : 1] + c.inputShape.dropFirst(), seed: 6)
        let (inURL, outURL) = (dir.appendingPathComponent("x.npy"), dir.appendingPathComponent("y.npy"))
        try NPY.write(x, to: inURL)
        let (status, output) = try runProcess("/usr/bin/env", ["python3", "-c", ortScript, url.path, inURL.path, outURL.path,
                                                               dir.appendingPathComponent("optimized.onnx").path])
        try #require(status == 0, "python3 (onnx checker + onnxruntime) failed:\n\(output)")
        let ort = try NPY.read(outURL)
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(output.split(separator: "\n").last!.utf8))
        #expect(counts["QLinearConv", default: 0] > 0, "ONNX Runtime's optimized graph: \(counts)")

        let ours = try runGraph(graph, parameters, x, backend: ReferenceBackend())
        let db = sqnr(ours, ort)
        #expect(db >= 40, "\(c.name), \(setting.testDescription), \(range.rawValue) weights: SQNR \(db) dB of ONNX Runtime vs the interpreter; optimized graph \(counts)")
        let (n, k) = (x.shape[0], ours.count / x.shape[0])
        let (a, b) = (ours.scalars, ort.scalars)
        let bound = 1e-5 * a.map { abs($0) }.max()!
        let equal = (0..<n).filter { i in (0..<k).allSatisfy { abs(a[i * k + $0] - b[i * k + $0]) <= bound } }.count
        #expect(n < 8 || equal >= 6, "\(c.name), \(setting.testDescription), \(range.rawValue) weights: \(equal) of \(n) samples equal within \(bound)")
    }
}
