import ArgumentParser
import Foundation
import GraphCore
import Serving

/// `pneumo predict`: classifies chest X-ray files (PNG or JPEG, any size, gray or colour) with a trained model,
/// preprocessed as PneumoniaMNIST was built (`MedMNISTPreprocessing`), at the threshold stored with the model.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify chest X-ray image files (PNG, JPEG): P(pneumonia) and the decision at the model's threshold.",
        discussion: """
            Each image is decoded (libpng, libjpeg-turbo), converted to gray (ITU-R 601 luma, as PIL's convert("L")), \
            center-cropped to a square of its short side and resized to the model's input size with PIL's antialiased \
            bicubic filter, as MedMNIST built the dataset; then scaled to [0, 1] and normalised with mean 0.5, std 0.5. \
            P(pneumonia) = softmax(logits / T)[1], T the temperature stored with the model (checkpoint info "temperature", \
            ONNX metadata_props "pneumo.temperature"; fitted on val when the model was trained; 1 without one); the decision is "pneumonia" when P ≥ the threshold. The threshold is \
            --threshold, else the one stored with the model (checkpoint info "threshold", ONNX metadata_props \
            "pneumo.threshold"), else 0.5, which the output then says. Files that cannot be read are reported after \
            the others, and the exit status is then 1.
            """)

    @Option(help: ArgumentHelp("A checkpoint written by pneumo train.", valueName: "file")) var checkpoint: String?
    @Option(help: ArgumentHelp("An ONNX model (pneumo export's, or torch.onnx.export's of the same model).", valueName: "file"))
    var onnx: String?
    @Option(help: "Decision threshold on P(pneumonia), in [0, 1] (default: the model's).") var threshold: Double?
    @Option(help: "Threads for the kernels (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("Arithmetic of the model's plans: fp32, bf16 (AVX-512 BF16 CPUs), fp16 (weights rounded to IEEE half; float32 arithmetic) or int8 (a model quantized by pneumo optimize). Default: the model's own (int8 for a quantized model, else fp32).", valueName: "precision")) var precision: Precision?
    @Flag(help: "Print JSON: {threshold, threshold_source, model, results: [{file, probability, prediction}], errors}.")
    var json = false
    @Argument(help: ArgumentHelp("Chest X-ray files (PNG or JPEG).", valueName: "image")) var images: [String] = []

    func validate() throws {
        guard (checkpoint == nil) != (onnx == nil) else { throw ValidationError("give exactly one of --checkpoint FILE and --onnx FILE") }
        for (flag, path) in [("--checkpoint", checkpoint), ("--onnx", onnx)] {
            if let path, !FileManager.default.fileExists(atPath: path) { throw ValidationError("\(flag): no such file: \(path)") }
        }
        if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let report: PredictionReport
        do {
            let model = try checkpoint.map { try Classifier(checkpoint: $0, precision: precision) } ?? Classifier(onnx: onnx!, precision: precision)
            report = try model.predict(files: images, threshold: threshold, thresholdSource: "--threshold")
        } catch let error as ClassifierError {
            throw error.cliError
        }
        if json {
            print(try report.jsonString())
        } else {
            print(report.table())
        }
        for e in report.errors { FileHandle.standardError.write(Data("pneumo predict: \(e.file): \(e.error)\n".utf8)) }
        if !report.errors.isEmpty {
            FileHandle.standardError.write(Data("pneumo predict: \(report.errors.count) of \(images.count) files could not be classified\n".utf8))
            throw ExitCode.failure
        }
    }
}
