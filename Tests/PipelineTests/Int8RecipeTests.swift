import Data
import GraphCore
import Foundation
import ONNX
import Runtime
import Testing
import Train
@testable import Pipeline
import TestSupport

/// `quantize-int8` in a recipe: validated as the last step, and end to end through `ModelOptimizer` on the
/// synthetic split (PneumoNet, 28 px): the checkpoint and the ONNX file carry the quantized model, which
/// our runtime runs in INT8 by default, and its val scores track the float model's.
@Suite("Recipes: INT8 quantization")
struct Int8RecipeTests {
    @Test func quantizeMustBeLast() throws {
        let bad = Recipe(name: "q", steps: [Recipe.Step("quantize-int8"), Recipe.Step("fold-batchnorm")])
        let error = #expect(throws: EngineError.self) { try bad.validate() }
        #expect(error?.message == "must be the last step (it runs after fine-tuning)")
        let zero = Recipe(name: "q", steps: [Recipe.Step("quantize-int8", samples: 0)])
        #expect(throws: EngineError.self) { try zero.validate() }
        try Recipe.load("int8").validate()
    }

    @Test func optimizerQuantizesAfterFineTuning() throws {
        let (train, val) = (try syntheticSplit(.train, count: 64, seed: 1), try syntheticSplit(.val, count: 30, seed: 2))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = TrainingConfig()
        config.epochs = 2; config.batchSize = 16; config.patience = 10
        var t = Trainer(descriptor: ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1), config: config,
                        outputDirectory: dir.appendingPathComponent("source"), backend: testBackend)
        t.showProgress = false
        let source = URL(fileURLWithPath: try t.run(train: train, val: val).checkpoint)

        let recipe = Recipe(name: "int8-tuned", steps: [Recipe.Step("fold-batchnorm"), Recipe.Step("quantize-int8", samples: 32)],
                            fine_tune: Recipe.FineTune(epochs: 1))
        let out = dir.appendingPathComponent("out")
        let report = try ModelOptimizer(backend: testBackend) { _ in }
            .run(checkpoint: source, recipe: recipe, train: train, val: val, file: "<synthetic>", output: out)
        #expect(report.steps.map(\.rewrite) == ["fold-batchnorm", "quantize-int8"])
        let q = report.steps[1]
        #expect(!q.layers_changed.isEmpty)
        // Quantization keeps the function within a few percent of the logit scale on val images.
        #expect(q.max_output_change > 0 && q.max_output_change < 0.1, "\(q.max_output_change)")

        let checkpoint = try Checkpoint.read(URL(fileURLWithPath: report.checkpoint))
        #expect(Int8Quantization.isQuantized(try checkpoint.graph()))
        let model = try ONNXImporter.load(url: URL(fileURLWithPath: report.onnx))
        #expect(Int8Quantization.isQuantized(model.graph))
        // Runs in INT8 wherever the CPU has int8 kernels (7-bit weights without VNNI), in float32 (same rounding) elsewhere.
        #expect(Runtime(graph: model.graph, parameters: model.parameters, sampleShape: [1, 28, 28]).precision
                == (Precision.isSupported(.int8) ? .int8 : .fp32))
    }
}
