import Foundation
import Testing
@testable import CPUBackend
import GraphCore
@testable import ONNX
import Runtime
import TestSupport

// MobileNetV3's and EfficientNet's ops as torch.onnx.export writes them: FamiliesNet (scripts/make_onnx_fixtures.py
// --families, committed: the TorchScript exporter at opsets 17 and 20, and the default dynamo exporter) imported and
// run on the interpreter (both backends) and on compiled plans, against ONNX Runtime's outputs on the same files
// (committed beside them; rerun live where python3 has onnxruntime) and PyTorch's. Where torch is installed,
// torchvision's MobileNetV3-Small and EfficientNet-B0 themselves (too large to commit) are exported and compared.

/// Our runtime vs ONNX Runtime on the same file: float32 kernels summing in other orders (oneDNN's convolutions,
/// eltwise and reduction kernels). Measured (2026-12-05, AVX-512 CPU): FamiliesNet ≤ 2.4e-6 on logits ≤ 0.62 (plans,
/// both backends' interpreters); torchvision at 64 px ≤ 5.2e-7 (MobileNetV3-Small, logits ≤ 0.26) and ≤ 2.7e-6
/// (EfficientNet-B0, ≤ 1.21), at 224 px ≤ 5.8e-7. The acceptance bound: 1e-4 absolute + 1e-4 relative; the two
/// images' logits differ by ≥ 0.02, so an op that changes them by a fraction shows.
private let familiesTolerance = Tolerance(abs: 1e-4, rel: 1e-4)

@Suite("MobileNetV3 and EfficientNet ops from torch.onnx.export")
struct FamiliesExportTests {
    static let variants = ["opset17", "opset20", "dynamo"]

    func outputs(_ model: ONNXModel, _ x: Tensor) throws -> [(String, Tensor)] {
        var results: [(String, Tensor)] = []
        for backend in [ReferenceBackend(), try DNNLBackend()] as [any Backend] {
            results.append(("interpreter on \(backend.name)", try model.run(x, backend: backend)[0]))
        }
        for layout in PlanLayout.allCases {
            let plan = try InferencePlan(graph: model.graph, parameters: model.parameters, inputName: model.inputName, inputShape: x.shape,
                                         layout: layout)
            results.append(("\(layout) plan", try plan.run(x)))
        }
        return results
    }

    @Test(arguments: variants)
    func importsAndMatchesONNXRuntime(_ variant: String) throws {
        let model = try ONNXModel(contentsOf: fixtureURL("families_\(variant).onnx"))
        #expect(model.dynamicBatch)
        #expect(model.opset == (variant == "opset17" ? 17 : 20))
        let kinds = Set(model.graph.nodes.map(\.op.kindName))
        for kind in ["sub", "div", "mul", "add", "hard_swish", "hard_sigmoid", "sigmoid", "softmax", "transpose", "pad", "concat", "reduce_mean"] {
            #expect(kinds.contains(kind), "\(variant) should translate to a \(kind) node; it has \(kinds.sorted())")
        }
        let x = try NPY.read(fixtureURL("families_input.npy"))
        let ort = try NPY.read(fixtureURL("families_ort_\(variant).npy"))
        let torch = try NPY.read(fixtureURL("families_output.npy"))
        for (what, y) in try outputs(model, x) {
            expectClose(y, ort, familiesTolerance, "\(variant): \(what) vs ONNX Runtime")
            expectClose(y, torch, familiesTolerance, "\(variant): \(what) vs PyTorch")
        }
    }

    /// The committed ONNX Runtime outputs are what ONNX Runtime computes on these files here too.
    @Test(.enabled(if: PythonPeer.available, "needs python3 with onnx and onnxruntime"), arguments: variants)
    func committedOutputsAreONNXRuntimes(_ variant: String) throws {
        let x = try NPY.read(fixtureURL("families_input.npy"))
        let live = try PythonPeer.checkAndRun(fixtureURL("families_\(variant).onnx"), input: x)
        expectClose(live, try NPY.read(fixtureURL("families_ort_\(variant).npy")), Tolerance(abs: 1e-6, rel: 1e-5),
                    "\(variant): ONNX Runtime now vs the committed output")
    }

    /// torchvision's MobileNetV3-Small and EfficientNet-B0 (weights=None, num_classes 2, seed 0, randomised batch-norm
    /// affine parameters, running statistics measured on random images, eval mode, 64 px): the TorchScript and the default (dynamo) exporter's files, on our runtime, against
    /// ONNX Runtime on the same file, to 1e-4.
    @Test(.enabled(if: TorchPeer.available, "needs a python3 that imports torch and torchvision (on the PATH, or PNEUMO_TORCH_PYTHON)"),
          .timeLimit(.minutes(15)))
    func torchvisionMobileNetV3AndEfficientNet() async throws {
        let dir = try temporaryDirectory("families")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = packageRoot.appendingPathComponent("scripts/make_onnx_fixtures.py").path
        let (status, output) = try await runProcessOffThePool(TorchPeer.python!, [script, "--torchvision-families", dir.path, "--size", "64"])
        try #require(status == 0, "make_onnx_fixtures.py --torchvision-families failed:\n\(output)")
        for name in ["mobilenet_v3_small", "efficientnet_b0"] {
            let x = try NPY.read(dir.appendingPathComponent("\(name)_input.npy"))
            let torch = try NPY.read(dir.appendingPathComponent("\(name)_output.npy"))
            for variant in ["legacy", "dynamo"] {
                let url = dir.appendingPathComponent("\(name)_\(variant).onnx")
                // The script skips the dynamo export where onnxscript is missing; the TorchScript one it always writes.
                if variant == "dynamo" && !FileManager.default.fileExists(atPath: url.path) { continue }
                let model = try ONNXModel(contentsOf: url)
                let plan = try InferencePlan(graph: model.graph, parameters: model.parameters, inputName: model.inputName, inputShape: x.shape)
                let y = try plan.run(x)
                expectClose(y, torch, familiesTolerance, "\(name) \(variant): our runtime vs PyTorch")
                let interpreted = try model.run(x, backend: try DNNLBackend())[0]
                expectClose(interpreted, torch, familiesTolerance, "\(name) \(variant): interpreter vs PyTorch")
                // The script writes ONNX Runtime's outputs where its python has onnxruntime.
                let ortURL = dir.appendingPathComponent("\(name)_ort_\(variant).npy")
                guard FileManager.default.fileExists(atPath: ortURL.path) else { continue }
                let ort = try NPY.read(ortURL)
                expectClose(y, ort, familiesTolerance, "\(name) \(variant): our runtime vs ONNX Runtime")
                expectClose(interpreted, ort, familiesTolerance, "\(name) \(variant): interpreter vs ONNX Runtime")
            }
        }
    }
}
