import Foundation
import Testing
@testable import CPUBackend
import GraphCore
@testable import ONNX
import TestSupport

// Files written by torch.onnx.export, imported and run on our engine against PyTorch's own outputs.
// The committed fixtures come from scripts/make_onnx_fixtures.py (a small CNN through the TorchScript exporter
// at opsets 13 and 17 and the dynamo exporter at opset 18, dynamic batch); torchvision's ResNet-18 and
// MobileNetV2 are exported by the same script on the fly where its torch venv exists.

/// PyTorch float32 vs our float32 kernels: sums of up to a few hundred products in another order (≲ 1e-6
/// relative each) through a dozen layers; measured 3e-8 on logits of magnitude ≤ 0.18, on both backends.
/// 1e-5 absolute + 1e-4 relative; a wrong tap, padding, batch-norm statistic or resize coordinate is ≳ 1e-3.
private let smallCNNTolerance = Tolerance(abs: 1e-5, rel: 1e-4)

/// torchvision's full-width models: sums of up to 4608 products through ~20 layers; measured 4.3e-6
/// (ResNet-18, logits ≤ 3.3) and 9e-8 (MobileNetV2, logits ≤ 0.15). 1e-4 absolute + 1e-4 relative.
private let torchvisionTolerance = Tolerance(abs: 1e-4, rel: 1e-4)

@Suite("torch.onnx.export files import and match PyTorch")
struct TorchExportTests {
    static let smallCNNFiles = ["small_cnn_opset13.onnx", "small_cnn_opset17.onnx", "small_cnn_dynamo_opset18.onnx"]

    @Test(arguments: smallCNNFiles)
    func smallCNN(_ file: String) throws {
        let model = try ONNXModel(contentsOf: fixtureURL(file))
        #expect(model.inputName == "input")
        #expect(model.inputShape == [1, 1, 16, 16])
        #expect(model.dynamicBatch)
        #expect(model.producer.hasPrefix("pytorch"))
        let kinds = Set(model.graph.nodes.map(\.op.kindName))
        for kind in ["conv2d", "relu", "relu6", "max_pool2d", "avg_pool2d", "global_avg_pool", "linear", "add",
                     "resize_bilinear", "batch_norm2d", "flatten"] {
            #expect(kinds.contains(kind), "\(file) should translate to a \(kind) node")
        }
        #expect(model.graph.nodes.contains { if case .resizeBilinear(24, 24) = $0.op { true } else { false } })
        // The batch-norm that torch leaves unfused keeps its state-dict names, running statistics as buffers.
        #expect(model.parameters.bufferNames.contains("bn2.running_mean"))
        #expect(model.parameters.bufferNames.contains("bn2.running_var"))
        #expect(model.parameters.trainableNames.contains("fc.weight"))

        // The input's batch (3) differs from the export's example (2): the batch axis is symbolic.
        let x = try NPY.read(fixtureURL("small_cnn_input.npy"))
        let expected = try NPY.read(fixtureURL("small_cnn_output.npy"))
        for backend in [try DNNLBackend(), ReferenceBackend()] as [any Backend] {
            let y = try model.run(x, backend: backend)
            expectClose(y[0], expected, smallCNNTolerance, "\(file) on \(backend.name) vs PyTorch")
        }
    }

    /// torchvision's ResNet-18 and MobileNetV2 (num_classes 2, random weights, randomised batch-norm
    /// statistics), 64 px, exported at opsets 13, 17 (TorchScript) and 18 (dynamo). Too large to commit.
    @Test(.enabled(if: TorchPeer.available, "needs a python3 that imports torch and torchvision (on the PATH, or PNEUMO_TORCH_PYTHON)"),
          .timeLimit(.minutes(10)))
    func torchvisionExports() async throws {
        let dir = try temporaryDirectory("torchvision")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = packageRoot.appendingPathComponent("scripts/make_onnx_fixtures.py").path
        let (status, output) = try await runProcessOffThePool(TorchPeer.python!, [script, "--torchvision", dir.path, "--size", "64"])
        try #require(status == 0, "make_onnx_fixtures.py --torchvision failed:\n\(output)")
        let backend = try DNNLBackend()
        for name in ["resnet18", "mobilenet_v2"] {
            let x = try NPY.read(dir.appendingPathComponent("\(name)_input.npy"))
            let expected = try NPY.read(dir.appendingPathComponent("\(name)_output.npy"))
            for variant in ["opset13", "opset17", "dynamo_opset18"] {
                let url = dir.appendingPathComponent("\(name)_\(variant).onnx")
                guard FileManager.default.fileExists(atPath: url.path) else { continue }  // dynamo needs onnxscript
                let model = try ONNXModel(contentsOf: url)
                #expect(model.dynamicBatch, "\(name) \(variant)")
                let y = try model.run(x, backend: backend)
                expectClose(y[0], expected, torchvisionTolerance, "\(name) \(variant) vs PyTorch")
            }
        }
    }
}
