import Foundation
import Testing
import GraphCore
@testable import ONNX
import TestSupport

// Every file is hostile (STYLE §8: failure is tested like success). Each case damages a small valid model
// in one way and expects the importer's exact kind of error with a message that names what is wrong;
// none may trap. The fuzz test at the end flips and cuts bytes of a real torch export.

struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: ONNXError.Kind
    /// Text the message (or the context) must contain.
    var says: String
    var limits: ONNXLimits = ONNXLimits()
    var bytes: @Sendable () -> Data
    var testDescription: String { name }

    init(_ name: String, _ kind: ONNXError.Kind, says: String, limits: ONNXLimits = ONNXLimits(), bytes: @escaping @Sendable () -> Data) {
        self.name = name; self.kind = kind; self.says = says; self.limits = limits; self.bytes = bytes
    }

    /// The small valid model with `change` applied.
    init(_ name: String, _ kind: ONNXError.Kind, says: String, limits: ONNXLimits = ONNXLimits(),
         change: @escaping @Sendable (inout Onnx_ModelProto) -> Void) {
        self.init(name, kind, says: says, limits: limits) {
            var m = ProtoBuilder.smallModel()
            change(&m)
            return ProtoBuilder.bytes(m)
        }
    }
}

extension HostileCase {
    /// The QDQ small model (`ProtoBuilder.quantizedSmallModel`) with `change` applied.
    static func qdq(_ name: String, _ kind: ONNXError.Kind, says: String,
                    change: @escaping @Sendable (inout Onnx_ModelProto) -> Void) -> HostileCase {
        HostileCase(name, kind, says: says) {
            var m = ProtoBuilder.quantizedSmallModel()
            change(&m)
            return ProtoBuilder.bytes(m)
        }
    }
}

private func nested(depth: Int) -> Onnx_ModelProto {
    // Graph → Node → Attribute(GRAPH) → Graph → …: three messages per level.
    var g = Onnx_GraphProto()
    for _ in 0..<depth {
        var a = Onnx_AttributeProto()
        a.name = "body"; a.type = .graph; a.g = g
        var n = Onnx_NodeProto()
        n.opType = "If"; n.output = ["o"]; n.attribute = [a]
        g = Onnx_GraphProto()
        g.node = [n]
    }
    var m = ProtoBuilder.smallModel()
    m.graph.node.append(g.node[0])
    return m
}

let hostileCases: [HostileCase] = [
    HostileCase("empty file", .malformed, says: "empty") { Data() },
    HostileCase("not protobuf", .malformed, says: "not an ONNX protobuf") { Data("hello, I am a text file\n".utf8) },
    HostileCase("truncated", .malformed, says: "truncated") {
        let d = ProtoBuilder.bytes(ProtoBuilder.smallModel()); return d.prefix(d.count / 2)
    },
    HostileCase("wrong wire type at the top (ir_version as bytes)", .malformed, says: "field 1 of onnx.ModelProto has wire type length-delimited, but it is declared as varint") {
        ProtoBuilder.bytes(ProtoBuilder.smallModel()) + Data([0x0A, 0x01, 0x41])
    },
    HostileCase("wrong wire type in a node (op_type as varint)", .malformed, says: "field 4 of onnx.NodeProto") { m in
        var unknown = Onnx_NodeProto()
        unknown.opType = "Relu"; unknown.input = ["c"]; unknown.output = ["r"]
        let bytes = (try! unknown.serializedBytes() as Data) + Data([0x20, 0x05])  // field 4 (op_type), varint 5
        m.graph.node[1] = try! Onnx_NodeProto(serializedBytes: bytes)
    },
    HostileCase("message nesting beyond the limit", .limit, says: "nest deeper than 64") { m in m = nested(depth: 30) },
    HostileCase("file larger than the limit", .limit, says: "exceed the limit", limits: { var l = ONNXLimits(); l.maxFileBytes = 100; return l }()) {
        ProtoBuilder.bytes(ProtoBuilder.smallModel())
    },
    HostileCase("raw_data shorter than the shape", .malformed, says: "68 data bytes, but shape [2, 1, 3, 3] of FLOAT needs 72") { m in
        m.graph.initializer[0].rawData = m.graph.initializer[0].rawData.prefix(68)
    },
    HostileCase("float_data count ≠ shape", .malformed, says: "3 values in float_data, but shape [2] needs 2") { m in
        m.graph.initializer[1].clearRawData(); m.graph.initializer[1].floatData = [1, 2, 3]
    },
    HostileCase("data in the wrong field for its type", .malformed, says: "FLOAT data stored in int64_data") { m in
        m.graph.initializer[1].clearRawData(); m.graph.initializer[1].int64Data = [1, 2]
    },
    HostileCase("data given twice", .malformed, says: "data given twice") { m in m.graph.initializer[1].floatData = [1, 2] },
    HostileCase("negative dimension", .malformed, says: "negative dimension") { m in m.graph.initializer[1].dims = [-2] },
    HostileCase("huge dimensions", .limit, says: "more than 268435456 elements") { m in m.graph.initializer[1].dims = [1 << 20, 1 << 20, 1 << 20] },
    HostileCase("dimensions whose product overflows", .limit, says: "more than") { m in m.graph.initializer[1].dims = [Int64.max, 2] },
    HostileCase("rank above the cap", .limit, says: "rank 9 exceeds the limit of 8") { m in m.graph.initializer[1].dims = Array(repeating: 1, count: 9) },
    HostileCase("unknown data type", .unsupported, says: "COMPLEX64") { m in m.graph.initializer[1].dataType = 14 },
    HostileCase("NaN weight", .malformed, says: "NaN or Inf") { m in
        m.graph.initializer[1] = tensorProto(name: "conv.bias", try! Tensor(shape: [2], scalars: [.nan, 1]))
    },
    HostileCase("dangling node input", .invalidGraph, says: "input 'nowhere' is not produced by any node, initializer or graph input") { m in
        m.graph.node[1].input = ["nowhere"]
    },
    HostileCase("cycle", .invalidGraph, says: "cycle") { m in
        m.graph.node[1].input = ["p"]  // Relu reads the pool's output, which reads the Relu's
    },
    HostileCase("value produced twice", .invalidGraph, says: "output 'c' is already defined") { m in m.graph.node[1].output = ["c"] },
    HostileCase("graph output not produced", .invalidGraph, says: "not produced") { m in m.graph.output[0].name = "ghost" },
    HostileCase("no graph input", .unsupported, says: "expected one graph input") { m in m.graph.input = [] },
    HostileCase("two graph inputs", .unsupported, says: "found 2") { m in m.graph.input.append(ProtoBuilder.valueInfo("x2", [1, 1, 6, 6])) },
    HostileCase("zero input dimension", .invalidGraph, says: "dimension 2 is 0") { m in m.graph.input[0] = ProtoBuilder.valueInfo("x", [1, 1, 0, 6]) },
    HostileCase("symbolic spatial input dimension", .unsupported, says: "dimension 3 ('batch') is symbolic") { m in
        m.graph.input[0] = ProtoBuilder.valueInfo("x", [1, 1, 6, nil])
    },
    HostileCase("int64 graph input", .unsupported, says: "element type INT64") { m in m.graph.input[0].type.tensorType.elemType = 7 },
    HostileCase("unknown op", .unsupported, says: "unsupported op 'FancyOp'") { m in m.graph.node[1].opType = "FancyOp" },
    HostileCase("op from another domain", .unsupported, says: "domain 'com.microsoft'") { m in m.graph.node[1].domain = "com.microsoft" },
    HostileCase("opset too new", .unsupported, says: "opset 99 is not supported") { m in m.opsetImport[0].version = 99 },
    HostileCase("no default opset", .malformed, says: "no opset_import") { m in m.opsetImport[0].domain = "ai.onnx.ml" },
    HostileCase("IR version missing", .malformed, says: "ir_version is missing") { m in m.clearIrVersion() },
    HostileCase("attribute of the wrong type", .malformed, says: "attribute 'strides' has type") { m in
        m.graph.node[0].attribute[2] = .float("strides", 1)
    },
    HostileCase("attribute not valid for the input rank", .invalidGraph, says: "attribute 'kernel_shape' has 3 values; 2 expected") { m in
        m.graph.node[0].attribute[0] = .ints("kernel_shape", [3, 3, 3])
    },
    HostileCase("kernel_shape contradicting the weight", .invalidGraph, says: "kernel_shape [5, 5] does not match the weight") { m in
        m.graph.node[0].attribute[0] = .ints("kernel_shape", [5, 5])
    },
    HostileCase("attribute the op does not have", .unsupported, says: "attribute 'alpha' is not one of Relu's (it has none)") { m in
        m.graph.node[1].attribute = [.float("alpha", 0.1)]
    },
    HostileCase("attribute given twice", .malformed, says: "given twice") { m in m.graph.node[0].attribute.append(.ints("strides", [1, 1])) },
    HostileCase("huge padding", .invalidGraph, says: "pads") { m in m.graph.node[0].attribute[1] = .ints("pads", [1 << 40, 1, 1 << 40, 1]) },
    HostileCase("zero stride", .invalidGraph, says: "'strides' [0, 1] must lie in 1…65536") { m in m.graph.node[0].attribute[2] = .ints("strides", [0, 1]) },
    HostileCase("weight shape inconsistent with the input", .invalidGraph, says: "expects 3 input channels") { m in
        m.graph.initializer[0] = ProtoBuilder.floats("conv.weight", [2, 3, 3, 3])
    },
    HostileCase("too many inputs for the op", .invalidGraph, says: "2 inputs; Relu takes 1") { m in m.graph.node[1].input.append("c") },
    HostileCase("Clip other than ReLU/ReLU6", .unsupported, says: "only Clip(0, 6) (ReLU6) and Clip(0, ∞) (ReLU)") { m in
        m.graph.initializer.append(tensorProto(name: "lo", Tensor(scalar: -1)))
        m.graph.node[1] = ProtoBuilder.node("Clip", ["c", "lo"], ["r"])
    },
    HostileCase("external data without a model directory", .externalData, says: "not read from a file") { m in
        m.graph.initializer[1].clearRawData()
        m.graph.initializer[1].dataLocation = .external
        var e = Onnx_StringStringEntryProto(); e.key = "location"; e.value = "weights.bin"
        m.graph.initializer[1].externalData = [e]
    },
] + quantizedHostileCases

/// QDQ files: each rule of the QuantizeLinear/DequantizeLinear import, broken once in the valid QDQ model.
let quantizedHostileCases: [HostileCase] = [
    .qdq("QuantizeLinear read by another op", .unsupported, says: "a QuantizeLinear must be read by exactly one DequantizeLinear") { m in
        m.graph.node[1] = ProtoBuilder.node("Relu", ["xq"], ["xd"])
    },
    .qdq("QuantizeLinear read by two DequantizeLinear", .unsupported, says: "node 'x.quantize/QuantizeLinear' (QuantizeLinear): a QuantizeLinear must be read by exactly one") { m in
        m.graph.node.append(ProtoBuilder.node("DequantizeLinear", ["xq", "x.scale", "x.zero_point"], ["xd2"], name: "second"))
        m.graph.output.append(ProtoBuilder.valueInfo("xd2", [1, 1, 6, 6]))
    },
    .qdq("DequantizeLinear of a computed tensor", .unsupported, says: "DequantizeLinear of the computed tensor 'x' is not supported") { m in
        m.graph.node[1].input[0] = "x"
    },
    .qdq("non-zero activation zero point", .unsupported, says: "zero point 3 is not supported; quantized activations are symmetric") { m in
        m.graph.initializer[1] = integerTensorProto(name: "x.zero_point", [3], shape: [], type: .int8)
    },
    .qdq("zero activation scale", .invalidGraph, says: "scale 'x.scale' holds 0.0; scales must be positive and finite") { m in
        m.graph.initializer[0] = tensorProto(name: "x.scale", Tensor(scalar: 0))
    },
    .qdq("NaN activation scale", .invalidGraph, says: "scale 'x.scale' holds nan") { m in
        m.graph.initializer[0] = tensorProto(name: "x.scale", Tensor(scalar: .nan))
    },
    .qdq("negative weight scale", .invalidGraph, says: "scale 'conv.weight_scale' holds -0.02") { m in
        m.graph.initializer[3] = tensorProto(name: "conv.weight_scale", try! Tensor(shape: [2], scalars: [0.01, -0.02]))
    },
    .qdq("infinite weight scale", .invalidGraph, says: "scale 'conv.weight_scale' holds inf") { m in
        m.graph.initializer[3] = tensorProto(name: "conv.weight_scale", try! Tensor(shape: [2], scalars: [.infinity, 0.02]))
    },
    .qdq("integer scale", .invalidGraph, says: "scale 'x.scale' must be a float scalar or vector, got integers") { m in
        m.graph.initializer[0] = int64TensorProto(name: "x.scale", [1], shape: [])
    },
    .qdq("per-axis activation quantization", .unsupported, says: "per-axis quantization of an activation (scale of shape [6])") { m in
        m.graph.initializer[0] = tensorProto(name: "x.scale", try! Tensor(shape: [6], scalars: Array(repeating: 0.05, count: 6)))
        m.graph.initializer[1] = integerTensorProto(name: "x.zero_point", Array(repeating: 0, count: 6), shape: [6], type: .int8)
        m.graph.node[0].attribute = [.int("axis", 2)]
        m.graph.node[1].attribute = [.int("axis", 2)]
    },
    .qdq("INT32 activation", .unsupported, says: "an activation quantized to INT32 is not supported") { m in
        m.graph.initializer[1] = integerTensorProto(name: "x.zero_point", [0], shape: [], type: .int32)
    },
    .qdq("INT16 quantized weight", .unsupported, says: "DequantizeLinear of 'conv.weight_quantized' of type INT16 is not supported") { m in
        m.graph.initializer[2] = ProtoBuilder.int32Field("conv.weight_quantized", Array(repeating: 1, count: 18), shape: [2, 1, 3, 3], type: .int16)
    },
    .qdq("FLOAT8 quantized weight", .unsupported, says: "data type FLOAT8E4M3FN is not supported") { m in
        m.graph.initializer[2].dataType = 17
    },
    .qdq("UINT16 zero point", .unsupported, says: "zero point 'conv.weight_zero_point' has type UINT16") { m in
        m.graph.initializer[4] = ProtoBuilder.int32Field("conv.weight_zero_point", [0, 0], shape: [2], type: .uint16)
    },
    .qdq("DequantizeLinear of a float initializer", .unsupported, says: "of type FLOAT is not supported; only INT8, UINT8 and INT32") { m in
        m.graph.initializer[2] = ProtoBuilder.floats("conv.weight_quantized", [2, 1, 3, 3])
    },
    .qdq("int8 value outside its range", .malformed, says: "'conv.weight_quantized' holds 200, outside INT8's range") { m in
        m.graph.initializer[2] = ProtoBuilder.int32Field("conv.weight_quantized", [200] + Array(repeating: 0, count: 17), shape: [2, 1, 3, 3], type: .int8)
    },
    .qdq("saturate=0", .unsupported, says: "saturate=0 is not supported") { m in m.graph.node[0].attribute = [.int("saturate", 0)] },
    .qdq("block_size", .unsupported, says: "blocked quantization (block_size 2) is not supported") { m in
        m.graph.node[2].attribute.append(.int("block_size", 2))
    },
    .qdq("output_dtype", .unsupported, says: "output_dtype UINT8 is not supported") { m in m.graph.node[0].attribute = [.int("output_dtype", 2)] },
    .qdq("per-axis scale contradicting the axis", .invalidGraph, says: "scale of shape [3] does not match axis 0 of 'conv.weight_quantized' [2, 1, 3, 3]") { m in
        m.graph.initializer[3] = tensorProto(name: "conv.weight_scale", try! Tensor(shape: [3], scalars: [0.01, 0.02, 0.03]))
        m.graph.initializer[4] = integerTensorProto(name: "conv.weight_zero_point", [0, 0, 0], shape: [3], type: .int8)
    },
    .qdq("axis out of range", .invalidGraph, says: "axis 4 is out of range for 'conv.weight_quantized' of shape [2, 1, 3, 3]") { m in
        m.graph.node[2].attribute = [.int("axis", 4)]
    },
    .qdq("axis before opset 13", .invalidGraph, says: "attribute 'axis' needs opset 13 or later") { m in m.opsetImport[0].version = 12 },
    .qdq("zero point shape unlike its scale", .invalidGraph, says: "zero point 'conv.weight_zero_point' has shape [3], its scale [2]") { m in
        m.graph.initializer[4] = integerTensorProto(name: "conv.weight_zero_point", [0, 0, 0], shape: [3], type: .int8)
    },
    .qdq("zero point type unlike the weight's", .invalidGraph, says: "zero point type UINT8 differs from the input's INT8") { m in
        m.graph.initializer[4] = integerTensorProto(name: "conv.weight_zero_point", [0, 0], shape: [2], type: .uint8)
    },
    .qdq("INT32 bias with a zero point", .invalidGraph, says: "an INT32 input has no zero point but 0") { m in
        m.graph.initializer.append(integerTensorProto(name: "bias.zero_point", [5, 0], shape: [2], type: .int32))
        m.graph.node[3].input.append("bias.zero_point")
    },
    .qdq("QuantizeLinear and DequantizeLinear on different grids", .invalidGraph, says: "the pair must use the same scale and zero point") { m in
        m.graph.initializer.append(tensorProto(name: "x.scale2", Tensor(scalar: 0.1)))
        m.graph.node[1].input[1] = "x.scale2"
    },
    .qdq("QuantizeLinear and DequantizeLinear of different signedness", .invalidGraph, says: "with scale 0.05 (UINT8), but node 'x.quantize/QuantizeLinear'") { m in
        m.graph.node[1].input = ["xq", "x.scale"]  // no zero point: uint8
    },
]

@Suite("Hostile files give clear errors, never a trap")
struct HostileInputTests {
    @Test(arguments: hostileCases)
    func refused(_ c: HostileCase) {
        let e = onnxError { _ = try ONNXImporter.load(data: c.bytes(), limits: c.limits) }
        #expect(e?.kind == c.kind, "\(e.map(String.init(describing:)) ?? "no error")")
        #expect(e.map { $0.description.contains(c.says) } == true, "\(e.map(String.init(describing:)) ?? "no error") should say '\(c.says)'")
    }

    @Test func theValidBaseModelLoadsAndRuns() throws {
        for batch: Int64? in [1, nil] {
            let model = try ONNXImporter.load(data: ProtoBuilder.bytes(ProtoBuilder.smallModel(batch: batch)))
            #expect(model.inputShape == [1, 1, 6, 6])
            #expect(model.dynamicBatch == (batch == nil))
            let y = try model.run(TestData.normal([2, 1, 6, 6], seed: 9), backend: ReferenceBackend())
            #expect(y[0].shape == [2, 3])
        }
        let unknownButHarmless = ProtoBuilder.bytes(ProtoBuilder.smallModel()) + Data([0xF8, 0x07, 0x01])  // field 127, varint
        _ = try ONNXImporter.load(data: unknownButHarmless)
    }

    @Test func errorsNameTheNodeAndOp() {
        var m = ProtoBuilder.smallModel()
        m.graph.node[1].opType = "FancyOp"
        m.graph.node[1].name = "/block/fancy"
        let e = onnxError { _ = try ONNXImporter.load(data: ProtoBuilder.bytes(m)) }
        #expect(e?.context == "node '/block/fancy' (FancyOp)")
        #expect(e?.message.contains("the importer translates Add, AveragePool") == true)
    }

    @Test func fileErrorsNameThePath() throws {
        let dir = try temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.onnx")
        try Data("junk".utf8).write(to: url)
        let e = onnxError { _ = try ONNXImporter.load(url: url) }
        #expect(e?.path == url.path)
        #expect(e?.description.hasPrefix(url.path + ": model: not an ONNX protobuf") == true)
        let missing = onnxError { _ = try ONNXImporter.load(url: dir.appendingPathComponent("missing.onnx")) }
        #expect(missing?.kind == .io)
        let directory = onnxError { _ = try ONNXImporter.load(url: dir) }
        #expect(directory?.message == "not a regular file")
    }

    // MARK: external data

    /// `model/model.onnx` whose `conv.bias` lives in an external file at `location`; `outside.bin` sits next
    /// to the model's directory. Returns the model URL.
    func externalModel(in dir: URL, location: String, offset: Int = 0) throws -> URL {
        let modelDir = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelDir, withIntermediateDirectories: true)
        let bias = ProtoBuilder.floats("conv.bias", [2], seed: 2).rawData
        try (Data(count: offset) + bias).write(to: modelDir.appendingPathComponent("weights.bin"))
        try bias.write(to: dir.appendingPathComponent("outside.bin"))
        var m = ProtoBuilder.smallModel()
        m.graph.initializer[1].clearRawData()
        m.graph.initializer[1].dataLocation = .external
        var entries: [Onnx_StringStringEntryProto] = []
        for (k, v) in [("location", location), ("offset", String(offset)), ("length", "8")] {
            var e = Onnx_StringStringEntryProto(); e.key = k; e.value = v; entries.append(e)
        }
        m.graph.initializer[1].externalData = entries
        let url = modelDir.appendingPathComponent("model.onnx")
        try ProtoBuilder.bytes(m).write(to: url)
        return url
    }

    @Test func externalDataInsideTheDirectoryLoads() throws {
        let dir = try temporaryDirectory("external")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ONNXImporter.load(url: try externalModel(in: dir, location: "weights.bin", offset: 16))
        #expect(model.parameters["conv.bias"]?.scalars == TestData.normal([2], seed: 2).scalars)
        // A symlink that stays inside the directory is fine too.
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("model/alias.bin").path,
                                                   withDestinationPath: "weights.bin")
        _ = try ONNXImporter.load(url: try externalModel(in: dir, location: "alias.bin", offset: 16))
    }

    @Test(arguments: [("../outside.bin", "outside the model's directory"), ("/etc/passwd", "must be a relative path"),
                      ("link.bin", "outside the model's directory"), ("sub/../../outside.bin", "outside the model's directory"),
                      ("missing.bin", "does not exist"), ("weights.bin#", "does not exist")])
    func externalDataRefused(_ location: String, _ says: String) throws {
        let dir = try temporaryDirectory("external")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("model/sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("model/link.bin").path,
                                                   withDestinationPath: dir.appendingPathComponent("outside.bin").path)
        let url = try externalModel(in: dir, location: location)
        let e = onnxError { _ = try ONNXImporter.load(url: url) }
        #expect(e?.kind == .externalData)
        #expect(e?.message.contains(says) == true, "\(e.map(String.init(describing:)) ?? "") should say '\(says)'")
    }

    @Test func externalDataOutOfRangeOrMisSized() throws {
        let dir = try temporaryDirectory("external")
        defer { try? FileManager.default.removeItem(at: dir) }
        var url = try externalModel(in: dir, location: "weights.bin", offset: 0)
        var m = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        m.graph.initializer[1].externalData[1].value = "9223372036854775800"  // offset + length overflows
        try ProtoBuilder.bytes(m).write(to: url)
        #expect(onnxError { _ = try ONNXImporter.load(url: url) }?.message.contains("lie outside 'weights.bin'") == true)
        url = try externalModel(in: dir, location: "weights.bin", offset: 0)
        m = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        m.graph.initializer[1].externalData[2].value = "12"
        try ProtoBuilder.bytes(m).write(to: url)
        #expect(onnxError { _ = try ONNXImporter.load(url: url) }?.message.contains("length 12 bytes, but the shape needs 8") == true)
    }

    // MARK: fuzz

    /// 600 damaged copies of each of four files (random bytes overwritten, or cut short): two torch
    /// exports, mostly weights, and the hand-built model and its QDQ form, mostly structure. Each copy
    /// either loads and runs or throws an ONNXError; a trap would end the test process.
    @Test(arguments: ["small_cnn_opset17.onnx", "small_cnn_dynamo_opset18.onnx", "hand-built", "hand-built QDQ"])
    func damagedFilesNeverTrap(_ source: String) throws {
        let original = switch source {
        case "hand-built": [UInt8](ProtoBuilder.bytes(ProtoBuilder.smallModel(batch: nil)))
        case "hand-built QDQ": [UInt8](ProtoBuilder.bytes(ProtoBuilder.quantizedSmallModel()))
        default: [UInt8](try Data(contentsOf: fixtureURL(source)))
        }
        let x = TestData.normal(source.hasPrefix("hand-built") ? [1, 1, 6, 6] : [1, 1, 16, 16], seed: 1)
        var rng = SeededRandom(seed: 11)
        var (loaded, refused) = (0, 0)
        for trial in 0..<600 {
            var bytes = original
            if trial % 5 == 4 {
                bytes = Array(bytes.prefix(Int(rng.nextUniform() * Float(bytes.count))))
            } else {
                for _ in 0..<(1 + trial % 4) {
                    let i = min(bytes.count - 1, Int(rng.nextUniform() * Float(bytes.count)))
                    bytes[i] = UInt8(truncatingIfNeeded: Int(rng.nextUniform() * 256))
                }
            }
            do {
                let model = try ONNXImporter.load(data: Data(bytes))
                loaded += 1
                _ = try? model.run(x, backend: ReferenceBackend())
            } catch is ONNXError {
                refused += 1
            } catch {
                Issue.record("trial \(trial): \(type(of: error)) instead of ONNXError: \(error)")
            }
        }
        #expect(loaded + refused == 600)
        #expect(refused >= 100, "\(source): only \(refused) of 600 damaged copies refused")
    }
}
