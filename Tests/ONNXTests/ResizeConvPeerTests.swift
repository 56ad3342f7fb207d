import Foundation
import Testing
@testable import CPUBackend
import GraphCore
import Models
@testable import ONNX
import Runtime
import TestSupport

/// Our compiled plan vs ONNX Runtime on our file: kernels summing in other orders (FamiliesExportTests' bound).
private let peerTolerance = Tolerance(abs: 1e-4, rel: 1e-4)

/// The spec baseline's shape (ResNet-18 with its input resized bilinearly before the first convolution), at width 0.25 and
/// 16 → 56 px, exported and run by ONNX Runtime (its Resize, then its convolution) against our plan that runs the resize
/// and the first convolution as one step (`ResizeConv`), and against our plan that runs them apart.
@Suite("Resize + convolution as one step against ONNX Runtime",
       .enabled(if: PythonPeer.available && ResizeConv.isAvailable, "needs python3 with onnx and onnxruntime, and AVX2 or AVX-512F"))
struct ResizeConvPeerTests {
    @Test(arguments: [1, 3])
    func fusedPlanMatchesONNXRuntime(batch: Int) throws {
        let m = try ModelGraph(ResNet18(inChannels: 3, width: 0.25, upsampleTo: 56), inputShape: [1, 3, 16, 16], seed: 3)
        let parameters = try randomizedParameters(m.parameters, seed: 4)
        let dir = try temporaryDirectory("resize-conv")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("baseline.onnx")
        try ONNXExporter.write(graph: m.graph, parameters: parameters, to: url, dynamicBatch: true)
        let x = TestData.normal([batch, 3, 16, 16], seed: 8)
        let ort = try PythonPeer.checkAndRun(url, input: x)
        let model = try ONNXModel(contentsOf: url)
        for convolutions in [ConvolutionAlgorithm.resizeConv, .direct] {
            let plan = try InferencePlan(graph: model.graph, parameters: model.parameters, inputName: model.inputName, inputShape: x.shape,
                                         convolutions: convolutions)
            #expect(plan.convolutionCounts.byName["resize-conv"] == (convolutions == .resizeConv ? 1 : 0), "\(plan.summary)")
            expectClose(try plan.run(x), ort, peerTolerance, "batch \(batch), \(convolutions): our plan vs ONNX Runtime")
        }
    }
}
