import Foundation
import Testing
import NN
import TestSupport

/// Our reader and writer against the format's reference implementation, the Python `safetensors` package (with
/// numpy; `scripts/setup.sh` installs both): each reads what the other wrote, with equal values. Skips without them.
@Suite(.enabled(if: SafetensorsPeer.python != nil, "needs a python3 with safetensors and numpy (scripts/setup.sh)"))
struct SafetensorsPeerTests {
    @Test func pythonReadsOurFileWithEqualValues() throws {
        let dir = try temporaryDirectory("st-peer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("ours.safetensors")
        let tensors: [(name: String, tensor: Tensor)] = [
            ("layer1.0.conv1.weight", TestData.normal([4, 2, 3, 3], seed: 7)),
            ("bn1.running_var", try Tensor(shape: [3], scalars: [1, 1e-30, 3.4e38])),
            ("scalar", Tensor(scalar: -0.125)),
        ]
        try Safetensors.write(tensors, metadata: ["format": "pt", "note": "ü"], to: url)
        let script = """
            import sys, json
            from safetensors.numpy import load_file
            from safetensors import safe_open
            with safe_open(sys.argv[1], framework="numpy") as f: meta = f.metadata()
            t = load_file(sys.argv[1])
            print(json.dumps({"metadata": meta, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape),
                  "values": [float(x) for x in v.reshape(-1)]} for k, v in t.items()}}))
            """
        let peer = try SafetensorsPeer.json(script, url.path)
        #expect(peer.metadata == ["format": "pt", "note": "ü"])
        #expect(Set(peer.tensors.keys) == Set(tensors.map(\.name)))
        for (name, tensor) in tensors {
            let theirs = try #require(peer.tensors[name])
            #expect(theirs.dtype == "float32" && theirs.shape == tensor.shape, "\(name)")
            #expect(theirs.values.map { Float($0) } == tensor.scalars, "\(name): values differ")
        }
    }

    /// numpy's types through the reference writer (`safetensors.numpy.save_file`): F16, F32, F64, I64, I32, I16, I8,
    /// U8, BOOL in one file, read as the float32 values Python gives them.
    @Test func oursReadsPythonsMixedTypesWithEqualValues() throws {
        let dir = try temporaryDirectory("st-peer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("python.safetensors")
        let script = """
            import sys, json, numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(3)
            t = {"conv1.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float16),
                 "fc.weight": rng.standard_normal((2, 5)).astype(np.float32),
                 "fc.bias": rng.standard_normal(2).astype(np.float64),
                 "bn1.num_batches_tracked": np.array(9876, dtype=np.int64),
                 "i32": np.array([-5, 1 << 20], dtype=np.int32), "i16": np.array([-300], dtype=np.int16),
                 "i8": np.array([-1, 2], dtype=np.int8), "u8": np.array([0, 200], dtype=np.uint8),
                 "mask": np.array([True, False, True])}
            save_file(t, sys.argv[1], metadata={"source": "numpy"})
            print(json.dumps({"metadata": {"source": "numpy"}, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape),
                  "values": [float(x) for x in v.astype(np.float32).reshape(-1)]} for k, v in t.items()}}))
            """
        let peer = try SafetensorsPeer.json(script, url.path)
        let file = try Safetensors.read(url)
        #expect(file.metadata == peer.metadata)
        #expect(Set(file.tensors.map(\.name)) == Set(peer.tensors.keys))
        for (name, theirs) in peer.tensors {
            let ours = try #require(file[name])
            #expect(ours.shape == theirs.shape && ours.scalars == theirs.values.map { Float($0) }, "\(name) (\(theirs.dtype))")
        }
        #expect(file.dtypes["conv1.weight"] == .f16 && file.dtypes["bn1.num_batches_tracked"] == .i64 && file.dtypes["mask"] == .bool)
    }
}

/// BF16 needs PyTorch to write (numpy has no bfloat16): `safetensors.torch.save_file` of F16, BF16 and I64 tensors.
@Suite(.enabled(if: SafetensorsPeer.torchPython != nil, "needs a Python with torch and safetensors ($PNEUMO_TORCH_PYTHON)"))
struct SafetensorsTorchPeerTests {
    @Test func oursReadsTorchsBF16F16AndI64WithEqualValues() throws {
        let dir = try temporaryDirectory("st-peer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("torch.safetensors")
        let script = """
            import sys, json, torch
            from safetensors.torch import save_file
            g = torch.Generator().manual_seed(5)
            t = {"w.bf16": torch.randn(3, 4, generator=g).to(torch.bfloat16), "w.f16": torch.randn(6, generator=g).half(),
                 "bn.num_batches_tracked": torch.tensor(321, dtype=torch.int64), "w.f32": torch.randn(2, 2, generator=g)}
            save_file(t, sys.argv[1])
            print(json.dumps({"metadata": {}, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape),
                  "values": [float(x) for x in v.float().reshape(-1)]} for k, v in t.items()}}))
            """
        let peer = try SafetensorsPeer.json(script, url.path, python: SafetensorsPeer.torchPython!)
        let file = try Safetensors.read(url)
        for (name, theirs) in peer.tensors {
            let ours = try #require(file[name])
            #expect(ours.shape == theirs.shape && ours.scalars == theirs.values.map { Float($0) }, "\(name) (\(theirs.dtype))")
        }
        #expect(file.dtypes == ["w.bf16": .bf16, "w.f16": .f16, "bn.num_batches_tracked": .i64, "w.f32": .f32])
    }
}

enum SafetensorsPeer {
    static let python = PythonPeers.find(importing: ["safetensors", "numpy"])
    static let torchPython = PythonPeers.find(importing: ["safetensors", "torch"])

    struct Output: Decodable {
        struct Entry: Decodable { var dtype: String; var shape: [Int]; var values: [Double] }
        var metadata: [String: String]?
        var tensors: [String: Entry]
    }

    /// Runs `script` with `arguments` and decodes the JSON it prints last.
    static func json(_ script: String, _ arguments: String..., python: String = python!) throws -> (metadata: [String: String], tensors: [String: Output.Entry]) {
        let (status, output) = try PythonPeers.run(python, ["-c", script] + arguments)
        guard status == 0, let line = output.split(separator: "\n").last else {
            throw Safetensors.Error(path: python, message: "the Python peer failed:\n\(output)")
        }
        let decoded = try JSONDecoder().decode(Output.self, from: Data(line.utf8))
        return (decoded.metadata ?? [:], decoded.tensors)
    }
}
