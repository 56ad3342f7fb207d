import Foundation
import Testing
import GraphCore
import TestSupport
@testable import ONNX

// Helpers of the ONNX tests: fixtures (written by scripts/make_onnx_fixtures.py), a minimal float32 .npy
// reader/writer for the Python peers, the peers themselves (python3 with onnx + onnxruntime; the torch venv),
// and hand-built ModelProtos for the hostile-input cases. Comparison and seeded inputs are TestSupport's.

func fixtureURL(_ name: String) -> URL { fixtureURL(name, in: .module) }

// MARK: .npy (float32, C order)

enum NPY {
    static func write(_ t: Tensor, to url: URL) throws {
        let dims = t.shape.map(String.init).joined(separator: ", ") + (t.shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for v in t.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: url)
    }

    /// Reads a little-endian float32, C-order array (what numpy writes for `np.float32`).
    static func read(_ url: URL) throws -> Tensor {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 10, bytes[0] == 0x93 else { throw NPYError("\(url.path): not a .npy file") }
        let major = bytes[6]
        let (length, start) = major == 1 ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        let header = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False") else { throw NPYError("\(url.path): not <f4 C-order: \(header)") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw NPYError("\(url.path): no shape in \(header)")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let data = bytes[(start + length)...]
        var values: [Float] = []
        values.reserveCapacity(data.count / 4)
        var i = data.startIndex
        while i + 3 < data.endIndex {
            values.append(Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24))
            i += 4
        }
        return try Tensor(shape: shape, scalars: values)
    }

    struct NPYError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

// MARK: peers

/// Runs an executable and returns its exit status and combined output.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try PythonPeers.run(executable, arguments)
}

/// `runProcess` off Swift's concurrency pool (`PythonPeers.offThePool`), for a subprocess that runs for minutes.
func runProcessOffThePool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await PythonPeers.offThePool { try runProcess(executable, arguments) }
}

enum PythonPeer {
    /// python3 with `onnx` and `onnxruntime` (scripts/setup.sh installs them; CI has them, a bare machine may not).
    static let available: Bool = (try? runProcess("/usr/bin/env", ["python3", "-c", "import onnx, onnxruntime, numpy"]).status) == 0

    /// `onnx.checker.check_model(full_check=True)`, then ONNX Runtime's outputs for `input`.
    static let script = """
        import sys, numpy as np, onnx, onnxruntime as ort
        path, inp, out = sys.argv[1:4]
        onnx.checker.check_model(onnx.load(path), full_check=True)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = sess.run(None, {sess.get_inputs()[0].name: np.load(inp)})[0]
        np.save(out, y.astype(np.float32))
        """

    /// Checks the file and returns ORT's first output for `input`; the error carries Python's message.
    static func checkAndRun(_ model: URL, input: Tensor) throws -> Tensor {
        let dir = try temporaryDirectory("ort")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (inURL, outURL) = (dir.appendingPathComponent("x.npy"), dir.appendingPathComponent("y.npy"))
        try NPY.write(input, to: inURL)
        let (status, output) = try runProcess("/usr/bin/env", ["python3", "-c", script, model.path, inURL.path, outURL.path])
        guard status == 0 else { throw NPY.NPYError("python3 (onnx checker + onnxruntime) failed:\n\(output)") }
        return try NPY.read(outURL)
    }
}

enum TorchPeer {
    /// A Python with torch + torchvision + onnx (+ onnxscript), the first of: $PNEUMO_TORCH_PYTHON, every `python3` on
    /// the PATH, the venv earlier sessions used (`/work/venv-torch`). Nil where none imports them.
    static let python: String? = {
        // The fixture script's probe imports torchvision as its exports do (past a CUDA build's unloadable C++ ops).
        PythonPeers.find(succeeding: [packageRoot.appendingPathComponent("scripts/make_onnx_fixtures.py").path, "--check-torch"])
    }()
    static var available: Bool { python != nil }
}

// MARK: hand-built models

enum ProtoBuilder {
    static func valueInfo(_ name: String, _ dims: [Int64?]) -> Onnx_ValueInfoProto {
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "batch" }
            return dim
        }
        tt.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tt
        var vi = Onnx_ValueInfoProto()
        vi.name = name
        vi.type = type
        return vi
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name.isEmpty ? "/\(op)" : name
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        return n
    }

    static func floats(_ name: String, _ shape: [Int], seed: UInt64 = 1) -> Onnx_TensorProto {
        tensorProto(name: name, TestData.normal(shape, seed: seed))
    }

    /// x [N, 1, 6, 6] → Conv 3×3 (2 channels, pad 1, bias) → Relu → GlobalAveragePool → Flatten → Gemm → y.
    static func smallModel(batch: Int64? = 1, opset: Int64 = 17) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        g.name = "small"
        g.input = [valueInfo("x", [batch, 1, 6, 6])]
        g.output = [valueInfo("y", [batch, 3])]
        g.initializer = [floats("conv.weight", [2, 1, 3, 3], seed: 1), floats("conv.bias", [2], seed: 2),
                         floats("fc.weight", [3, 2], seed: 3), floats("fc.bias", [3], seed: 4)]
        g.node = [
            node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name: "/conv/Conv",
                 [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .ints("strides", [1, 1])]),
            node("Relu", ["c"], ["r"]),
            node("GlobalAveragePool", ["r"], ["p"]),
            node("Flatten", ["p"], ["f"], [.int("axis", 1)]),
            node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name: "/fc/Gemm", [.int("transB", 1)]),
        ]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var op = Onnx_OperatorSetIdProto()
        op.version = opset
        m.opsetImport = [op]
        m.graph = g
        return m
    }

    /// `smallModel` in QDQ form, as our exporter writes a quantized model: x → QuantizeLinear → DequantizeLinear
    /// (int8, scale 0.05) → Conv, its weight int8 per output channel (scales 0.01, 0.02) and its bias int32 on
    /// `0.05 · s_k`, each through DequantizeLinear(axis 0) → the rest as `smallModel`.
    /// Nodes: 0 Q, 1 DQ x, 2 DQ weight, 3 DQ bias, 4 Conv, 5 Relu, 6 GlobalAveragePool, 7 Flatten, 8 Gemm.
    /// Initializers: 0 x.scale, 1 x.zero_point, 2 conv.weight_quantized, 3 conv.weight_scale,
    /// 4 conv.weight_zero_point, 5 conv.bias_quantized, 6 conv.bias_scale, 7 fc.weight, 8 fc.bias.
    static func quantizedSmallModel() -> Onnx_ModelProto {
        var m = smallModel()
        let weights: [Int32] = (0..<18).map { Int32(($0 * 37) % 255) - 127 }
        m.graph.initializer = [
            tensorProto(name: "x.scale", Tensor(scalar: 0.05)),
            integerTensorProto(name: "x.zero_point", [0], shape: [], type: .int8),
            integerTensorProto(name: "conv.weight_quantized", weights, shape: [2, 1, 3, 3], type: .int8),
            tensorProto(name: "conv.weight_scale", try! Tensor(shape: [2], scalars: [0.01, 0.02])),
            integerTensorProto(name: "conv.weight_zero_point", [0, 0], shape: [2], type: .int8),
            integerTensorProto(name: "conv.bias_quantized", [100, -200], shape: [2], type: .int32),
            tensorProto(name: "conv.bias_scale", try! Tensor(shape: [2], scalars: [0.05 * 0.01, 0.05 * 0.02])),
        ] + m.graph.initializer[2...]
        var conv = m.graph.node[0]
        conv.input[0] = "xd"
        m.graph.node = [
            node("QuantizeLinear", ["x", "x.scale", "x.zero_point"], ["xq"], name: "x.quantize/QuantizeLinear"),
            node("DequantizeLinear", ["xq", "x.scale", "x.zero_point"], ["xd"], name: "x.quantize/DequantizeLinear"),
            node("DequantizeLinear", ["conv.weight_quantized", "conv.weight_scale", "conv.weight_zero_point"], ["conv.weight"],
                 name: "conv/DequantizeLinear", [.int("axis", 0)]),
            node("DequantizeLinear", ["conv.bias_quantized", "conv.bias_scale"], ["conv.bias"], name: "conv/DequantizeLinear_1",
                 [.int("axis", 0)]),
            conv,
        ] + m.graph.node[1...]
        return m
    }

    /// A tensor of `type` with `values` in `int32_data` (the field narrow types use when not raw).
    static func int32Field(_ name: String, _ values: [Int32], shape: [Int], type: ONNXDataType) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map { Int64($0) }
        t.dataType = type.rawValue
        t.int32Data = values
        return t
    }

    /// x [dims] → `nodes` → `output`, with `initializers`.
    static func model(input dims: [Int64?], nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [],
                      output: String = "y", opset: Int64 = 17) -> Onnx_ModelProto {
        var m = smallModel(opset: opset)
        m.graph.input = [valueInfo("x", dims)]
        m.graph.output = [valueInfo(output, [])]
        m.graph.output[0].type.tensorType.clearShape()
        m.graph.initializer = initializers
        m.graph.node = nodes
        return m
    }

    static func bytes(_ m: Onnx_ModelProto) -> Data { try! m.serializedBytes() }
}

/// The `ONNXError` that `body` throws, or an issue when it throws something else or nothing.
func onnxError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ONNXError? {
    do {
        try body()
        Issue.record("expected an ONNXError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as ONNXError {
        return e
    } catch {
        Issue.record("expected an ONNXError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
