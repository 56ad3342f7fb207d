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

    /// `weight_bits`: 7 (the default) or 8, on `quantize-int8` only; read from a recipe file.
    @Test func weightBits() throws {
        let six = #expect(throws: EngineError.self) { try Recipe(name: "q", steps: [Recipe.Step("quantize-int8", weight_bits: 6)]).validate() }
        #expect(six?.message == "weight_bits must be 7 or 8, got 6")
        let elsewhere = #expect(throws: EngineError.self) { try Recipe(name: "q", steps: [Recipe.Step("fold-batchnorm", weight_bits: 7)]).validate() }
        #expect(elsewhere?.message == "weight_bits applies to quantize-int8 only")
        let json = #"{"name": "q8", "steps": [{"rewrite": "quantize-int8", "samples": 64, "weight_bits": 8}]}"#
        let recipe = try JSONDecoder().decode(Recipe.self, from: Data(json.utf8))
        try recipe.validate()
        #expect(recipe.steps[0].int8WeightRange == .full)
        #expect(Recipe.Step("quantize-int8").int8WeightRange == .reduced && Recipe.Step("quantize-int8", weight_bits: 7).int8WeightRange == .reduced)
        #expect(try Recipe.load("int8").steps[0].int8WeightRange == .reduced)
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
        let graph = try checkpoint.graph()
        #expect(Int8Quantization.isQuantized(graph))
        // 7-bit weights by default: every convolution's weights, channel by channel, on the 7-bit grid of their maximum.
        #expect(checkpoint.info["quantization"]?.hasPrefix("int8 (7-bit weights)") == true, "\(checkpoint.info)")
        var convolutions = 0
        for node in graph.nodes {
            guard case .conv2d = node.op, case .parameter(let name) = graph[node.inputs[1]].op, let w = checkpoint.parameters[name] else { continue }
            convolutions += 1
            let (v, per) = (w.scalars, w.count / w.shape[0])
            for k in 0..<w.shape[0] {
                let channel = v[(k * per)..<((k + 1) * per)]
                let step = channel.map(abs).max()! / 63
                #expect(step == 0 || channel.allSatisfy { ($0 / step).rounded() * step == $0 }, "\(name), channel \(k)")
            }
        }
        #expect(convolutions > 0)
        let model = try ONNXImporter.load(url: URL(fileURLWithPath: report.onnx))
        #expect(Int8Quantization.isQuantized(model.graph))
        // Runs in INT8 wherever the CPU has int8 kernels (7-bit weights without VNNI), in float32 (same rounding) elsewhere.
        #expect(Runtime(graph: model.graph, parameters: model.parameters, sampleShape: [1, 28, 28]).precision
                == (Precision.isSupported(.int8) ? .int8 : .fp32))
    }
}
