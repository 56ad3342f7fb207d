import Foundation
import Testing
@testable import CPUBackend
import GraphCore
import Models
import NN
@testable import ONNX
import TestSupport

// Our exported files under the ONNX reference checker (full_check: strict shape inference) and ONNX
// Runtime, through python3. Skipped cleanly where python3 lacks onnx or onnxruntime (scripts/setup.sh
// installs both).

/// ONNX Runtime's and oneDNN's convolutions sum in different orders (ORT may also pick Winograd or fused
/// kernels): measured ≤ 1e-6 on these models' logits (≤ 1.7), 2e-6 on full-width ResNet-18. 5e-5 absolute +
/// 1e-4 relative leaves room for other CPUs' kernels; a wrong op is ≳ 1e-2.
private let runtimeTolerance = Tolerance(abs: 5e-5, rel: 1e-4)
/// Bilinear resize is four products per output; ORT and the reference compute the source coordinate in
/// float32 the same way up to rounding (≈ in·1.2e-7, times |x₁ − x₀| ≲ 8): 1e-5 absolute.
private let resizeTolerance = Tolerance(abs: 1e-5, rel: 1e-5)

@Suite("Exported files pass onnx.checker and match ONNX Runtime", .enabled(if: PythonPeer.available, "needs python3 with onnx and onnxruntime"))
struct PeerTests {
    @Test(arguments: roundTripCases, exportSettings)
    func checkerAndRuntime(_ c: RoundTripCase, _ setting: ExportSetting) throws {
        let m = try ModelGraph(try c.build(), inputShape: c.inputShape, seed: 3)
        let parameters = try randomizedParameters(m.parameters, seed: 4)
        let dir = try temporaryDirectory("peer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.onnx")
        try ONNXExporter.write(graph: m.graph, parameters: parameters, to: url, opset: setting.opset, dynamicBatch: setting.dynamicBatch)
        // A static-batch file runs at its batch (1); a dynamic one at another.
        let batch = setting.dynamicBatch ? 3 : 1
        let x = TestData.normal([batch] + c.inputShape.dropFirst(), seed: 6)
        let ort = try PythonPeer.checkAndRun(url, input: x)
        let ours = try ONNXModel(contentsOf: url).run(x, backend: try DNNLBackend())
        expectClose(ours[0], ort, runtimeTolerance, "\(c.name) (\(setting.testDescription)): ours vs ONNX Runtime")
    }

    /// Resize(linear, half_pixel) as ONNX Runtime runs it equals PyTorch's `align_corners=False` as our
    /// reference implements it, including the clamp at the borders: upsampling by integer and fractional
    /// factors, downsampling, a size of 1, and the identity.
    @Test(arguments: [(5, 7, 7, 5), (4, 4, 16, 12), (28, 28, 224, 224), (9, 7, 4, 3), (6, 6, 1, 1), (6, 5, 6, 5), (3, 3, 10, 10)])
    func resizeMatchesPyTorchSemantics(_ sizes: (Int, Int, Int, Int)) throws {
        let (h, w, ho, wo) = sizes
        let b = GraphBuilder()
        let x = b.input("image", shape: [2, 3, h, w])
        b.markOutputs([try x.resizeBilinear(height: ho, width: wo)])
        let dir = try temporaryDirectory("resize")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("resize.onnx")
        try ONNXExporter.write(graph: b.graph, parameters: b.parameters, to: url, dynamicBatch: true)
        let input = TestData.normal([2, 3, h, w], seed: 7)
        let ort = try PythonPeer.checkAndRun(url, input: input)
        let reference = try ReferenceBackend().resizeBilinear(input, height: ho, width: wo)
        let identity = h == ho && w == wo
        expectClose(ort, identity ? input : reference, resizeTolerance, "\(h)×\(w) → \(ho)×\(wo): ONNX Runtime vs reference")
        let ours = try ONNXModel(contentsOf: url).run(input, backend: try DNNLBackend())
        expectClose(ours[0], ort, resizeTolerance, "\(h)×\(w) → \(ho)×\(wo): imported model vs ONNX Runtime")
    }

    /// The torch-exported fixtures under ONNX Runtime give torch's outputs too: the fixture and the
    /// comparison mean what they say.
    @Test(arguments: TorchExportTests.smallCNNFiles)
    func torchFixturesUnderRuntime(_ file: String) throws {
        let x = try NPY.read(fixtureURL("small_cnn_input.npy"))
        let ort = try PythonPeer.checkAndRun(fixtureURL(file), input: x)
        // Same bound as our engine vs PyTorch (TorchExportTests): float32 kernels summing in another order.
        expectClose(ort, try NPY.read(fixtureURL("small_cnn_output.npy")), Tolerance(abs: 1e-5, rel: 1e-4),
                    "\(file) under ONNX Runtime vs PyTorch")
    }
}
