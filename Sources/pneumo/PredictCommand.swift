import ArgumentParser
import GraphCore
import Foundation
import Imaging
import ClinicalMetrics
import Models
import ONNX
import Runtime
import Train

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
        let model = try checkpoint.map(LoadedClassifier.init(checkpoint:)) ?? LoadedClassifier(onnx: onnx!)
        let (chosen, source): (Double, String) =
            if let threshold { (threshold, "--threshold") }
            else if let stored = model.storedThreshold { (stored, model.thresholdOrigin) }
            else { (0.5, "default: the model stores no threshold") }
        let preprocessing = try MedMNISTPreprocessing(size: model.inputSize, channels: model.channels)

        var results: [PredictResult] = [], errors: [PredictError] = []
        for path in images {
            let image: GrayImage
            do {
                image = try ImageFile.decode(url: URL(fileURLWithPath: path))
            } catch let error as ImageError {
                errors.append(PredictError(file: path, error: error.message))
                continue
            }
            let p = try model.probability(preprocessing.tensor(image))
            results.append(PredictResult(file: path, probability: p, prediction: p >= chosen ? "pneumonia" : "normal"))
        }

        let report = PredictReport(model: model.description, input: [model.channels, model.inputSize, model.inputSize],
                                   threshold: chosen, threshold_source: source, results: results, errors: errors)
        if json {
            print(try report.jsonString())
        } else {
            print(report.table())
        }
        for e in errors { FileHandle.standardError.write(Data("pneumo predict: \(e.file): \(e.error)\n".utf8)) }
        if !errors.isEmpty {
            FileHandle.standardError.write(Data("pneumo predict: \(errors.count) of \(images.count) files could not be classified\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// A two-class model ready to score one preprocessed image, with what it says about its input and threshold.
struct LoadedClassifier: CustomStringConvertible {
    let description: String
    let inputSize: Int
    let channels: Int
    let storedThreshold: Double?
    let thresholdOrigin: String
    /// Temperature scaling stored with the model (fitted on val when it was trained); identity without one.
    let temperature: TemperatureScaling
    private let runtime: Runtime

    init(checkpoint path: String) throws {
        let ckpt = try Checkpoint.read(URL(fileURLWithPath: path))
        let d = ckpt.descriptor
        guard d.classes == 2 else {
            throw ValidationError("--checkpoint: \(path) is a \(d.classes)-class model; predict needs normal/pneumonia (2 classes)")
        }
        let graph = try ckpt.graph()
        description = "\(d.model) (checkpoint \(path))"
        inputSize = d.input_size
        channels = d.channels
        storedThreshold = try Self.threshold(ckpt.info["threshold"], origin: "checkpoint \(path) info \"threshold\"")
        thresholdOrigin = "stored in the checkpoint"
        temperature = try Self.temperature(ckpt.info["temperature"], origin: "checkpoint \(path) info \"temperature\"")
        runtime = Runtime(graph: graph, parameters: ckpt.parameters, sampleShape: Array(d.inputShape(batch: 1).dropFirst()))
    }

    init(onnx path: String) throws {
        let model = try ONNXModel(contentsOf: URL(fileURLWithPath: path))
        let shape = model.inputShape
        guard shape.count == 4, shape[2] == shape[3], [1, 3].contains(shape[1]) else {
            throw ValidationError("--onnx: \(path) takes input \(describe(shape)); predict needs [N, 1 or 3, S, S]")
        }
        guard model.dynamicBatch || shape[0] == 1 else {
            throw ValidationError("--onnx: \(path) has a fixed batch of \(shape[0]); export it with batch 1 or a symbolic batch")
        }
        let name = model.metadata["pneumo.model"].flatMap { try? JSONDecoder().decode(ModelDescriptor.self, from: Data($0.utf8)) }?.model
        description = "\(name ?? model.producer) (ONNX \(path))"
        inputSize = shape[2]
        channels = shape[1]
        storedThreshold = try Self.threshold(model.metadata["pneumo.threshold"], origin: "ONNX \(path) metadata_props \"pneumo.threshold\"")
        thresholdOrigin = "stored in the ONNX metadata"
        temperature = try Self.temperature(model.metadata["pneumo.temperature"], origin: "ONNX \(path) metadata_props \"pneumo.temperature\"")
        runtime = Runtime(graph: model.graph, parameters: model.parameters, inputName: model.inputName, sampleShape: Array(shape.dropFirst()))
    }

    private static func threshold(_ text: String?, origin: String) throws -> Double? {
        guard let text else { return nil }
        guard let t = Double(text.trimmingCharacters(in: .whitespaces)), (0...1).contains(t) else {
            throw ValidationError("\(origin) is '\(text)', not a number in [0, 1]")
        }
        return t
    }

    private static func temperature(_ text: String?, origin: String) throws -> TemperatureScaling {
        guard let text else { return .identity }
        guard let t = Double(text.trimmingCharacters(in: .whitespaces)), let scaling = try? TemperatureScaling(temperature: t) else {
            throw ValidationError("\(origin) is '\(text)', not a positive number")
        }
        return scaling
    }

    /// Calibrated P(pneumonia) = σ((l₁ − l₀)/T) for `input` [1, C, S, S] (T = 1 without a stored temperature).
    func probability(_ input: Tensor) throws -> Double {
        temperature.apply(try runtime.run(input).positiveClassProbabilities()[0])
    }
}

struct PredictResult: Encodable {
    let file: String
    let probability: Double
    let prediction: String
}

struct PredictError: Encodable {
    let file: String
    let error: String
}

struct PredictReport: Encodable {
    let model: String
    /// `[C, S, S]`.
    let input: [Int]
    let threshold: Double
    let threshold_source: String
    let results: [PredictResult]
    let errors: [PredictError]

    func table() -> String {
        var lines = ["\(model), input \(input.map(String.init).joined(separator: "×"))",
                     "threshold \(String(format: "%.4g", threshold)) (\(threshold_source))"]
        let width = max(4, results.map(\.file.count).max() ?? 0)
        if !results.isEmpty {
            lines.append("file".padding(toLength: width, withPad: " ", startingAt: 0) + "  P(pneumonia)  prediction")
            for r in results {
                lines.append(r.file.padding(toLength: width, withPad: " ", startingAt: 0)
                             + String(format: "  %12.4f  ", r.probability) + r.prediction)
            }
        }
        return lines.joined(separator: "\n")
    }
}
