import ArgumentParser
import Data
import FileSafety
import Foundation
import Pipeline
import Train

/// `pneumo optimize`: a recipe of IR rewrites (plus fine-tuning) applied to a trained checkpoint.
struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Apply a recipe of rewrites to a checkpoint, fine-tune if it says so, and write a checkpoint and an ONNX file.",
        discussion: "Recipes by name: \(Recipe.named.keys.sorted().joined(separator: ", ")); or a JSON file (see Sources/Pipeline/Recipe.swift). Rewrites: \(Recipe.rewrites.joined(separator: ", ")). A recipe's \"distill\": {\"temperature\": T, \"alpha\": a} fine-tunes by distillation from the checkpoint's model before the rewrites.")

    @Option(help: "A checkpoint written by pneumo train.") var checkpoint: String
    @Option(help: "A recipe name or a recipe JSON file.") var recipe: String
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Output directory (optimized.safetensors, model.onnx, optimize.json).") var out: String
    @Option(name: .customLong("target-sensitivity"), help: "Sensitivity the operating threshold must reach on val (the SLA's 98%).") var targetSensitivity = SpecDefaults.targetSensitivity
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw ValidationError("--checkpoint: no such file: \(checkpoint)") }
        _ = try Recipe.load(recipe)
        guard targetSensitivity > 0, targetSensitivity <= 1 else { throw ValidationError("--target-sensitivity must be in (0, 1]") }
        try OutputPath.directory(out, "--out")
    }

    /// Holds --out for the whole run: a second writer is refused by name (OutputLock).
    func run() throws {
        try OutputLock.holding(URL(fileURLWithPath: out)) { try optimize() }
    }

    private func optimize() throws {
        var optimizer = ModelOptimizer(backend: try engine.makeBackend()) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        optimizer.targetSensitivity = targetSensitivity
        let ckpt = URL(fileURLWithPath: checkpoint)
        // The download of the checkpoint's own size, as eval and sla take.
        let size = try Checkpoint.read(ckpt).descriptor.input_size
        let report = try optimizer.run(checkpoint: ckpt, recipe: try Recipe.load(recipe), dataset: try dataset.open(preferredSize: size),
                                       output: URL(fileURLWithPath: out))
        if json { print(try report.jsonString()); return }
        if let t = report.distillation.temperature, let a = report.distillation.alpha, report.distillation.used {
            print(String(format: "fine-tuned by distillation from the source checkpoint (temperature %g, alpha %g)", t, a))
        }
        print(String(format: "val AUC %.4f; threshold %.4f (sensitivity ≥ %.3f on val)", report.val_auc, report.threshold, report.target_sensitivity))
        print("checkpoint: \(report.checkpoint)\nonnx: \(report.onnx)")
    }
}
