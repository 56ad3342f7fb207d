import Foundation
import Testing
@testable import Models
import NN
import TestSupport

/// Eval-mode forward passes against PyTorch with the same weights: each fixture (written by
/// scripts/make_model_fixtures.py) holds a state dict with randomised batch-norm statistics, an input and
/// the logits PyTorch computes in float64. Every state-dict tensor must map one to one onto the engine's
/// parameter names. Run on every backend.
///
/// Tolerance: |Δ| ≤ 1e-4 + 1e-4·|expected| per logit. The logits are O(0.1–2); the float32 engines differ
/// from PyTorch's float64 by at most 9e-6 (measured on both backends, 2026-11), so the bound leaves a 10×
/// margin while any semantic difference shows far above it: resizing with align_corners=True instead of
/// False moves the ResNet fixture's logits by 0.36, nearest instead of bilinear by 1.98.
@Suite struct ForwardTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var inputShape: [Int]
        var make: @Sendable () throws -> any Layer
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        // The baseline's bilinear resize (32 → 64, align_corners=False) in front of ResNet-18 at width 0.125.
        Case(file: "resnet18_w0125_forward.safetensors", inputShape: [4, 3, 32, 32]) {
            ResNet18(inChannels: 3, classes: 2, width: 0.125, upsampleTo: 64)
        },
        Case(file: "pneumonet_forward.safetensors", inputShape: [4, 1, 28, 28]) {
            try PneumoNet(inChannels: 1, widths: [8, 16, 32, 64])
        },
        Case(file: "mobilenetv2_w025_forward.safetensors", inputShape: [4, 3, 32, 32]) {
            try MobileNetV2(width: 0.25)
        },
    ]


    @Test(arguments: cases, testBackends.map(\.name))
    func logitsMatchPyTorch(_ c: Case, backendName: String) throws {
        let backend = testBackends.first { $0.name == backendName }!
        let file = try TestSafetensors(fixtureURL(c.file))
        #expect(file.metadata["script"] == "scripts/make_model_fixtures.py")
        let input = try #require(file.tensors["input"])
        let expected = try #require(file.tensors["logits"])
        #expect(input.shape == c.inputShape)

        var m = try ModelGraph(try c.make(), inputShape: c.inputShape)
        let weights = file.tensors.filter { $0.key != "input" && $0.key != "logits" }
        #expect(Set(weights.keys) == Set(m.parameters.names), "state dict names differ")
        for name in m.parameters.names {
            guard let w = weights[name] else { continue }
            try m.parameters.set(name, w)
        }
        let executor = Executor(graph: m.graph, backend: backend)
        var rng = SeededRandom(seed: 0)
        var parameters = m.parameters
        let pass = try executor.forward(feeds: ["image": input], parameters: &parameters, mode: .inference, rng: &rng)
        let logits = try #require(pass[m.graph.outputs[0]])
        expectClose(logits, expected, Tolerance(abs: 1e-4, rel: 1e-4), "\(c.file) on \(backend.name)")
    }
}
