import Foundation
import GraphCore

/// What `pneumo predict` prints: the model, the threshold used and where it came from, one row per classified file,
/// and the files that could not be decoded. The JSON keys are the CLI's (`threshold_source`, …).
public struct PredictionReport: Encodable, Sendable {
    /// One classified file.
    public struct FilePrediction: Encodable, Sendable, Equatable {
        public let file: String
        public let probability: Double
        /// "pneumonia" or "normal".
        public let prediction: String

        public init(file: String, probability: Double, prediction: String) {
            self.file = file; self.probability = probability; self.prediction = prediction
        }
    }

    /// A file that could not be decoded, with the decoder's reason.
    public struct FileFailure: Encodable, Sendable, Equatable {
        public let file: String
        public let error: String

        public init(file: String, error: String) { self.file = file; self.error = error }
    }

    public let model: String
    /// `[C, S, S]`.
    public let input: [Int]
    public let threshold: Double
    public let threshold_source: String
    public let results: [FilePrediction]
    public let errors: [FileFailure]

    public init(model: String, input: [Int], threshold: Double, threshold_source: String, results: [FilePrediction], errors: [FileFailure]) {
        self.model = model; self.input = input; self.threshold = threshold; self.threshold_source = threshold_source
        self.results = results; self.errors = errors
    }

    /// The terminal table: model and input, threshold and source, then file, P(pneumonia), prediction.
    public func table() -> String {
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

extension Classifier {
    /// Classifies image files one at a time (batch 1, so each file's probability is the one it gets alone and one
    /// bad file costs nothing but its row), at `threshold` (whose source `thresholdSource` names) or else the model's.
    /// Files that cannot be read or decoded are listed in `errors`; other failures throw.
    public func predict(files: [String], threshold: Double? = nil, thresholdSource: String = "given") throws -> PredictionReport {
        let (chosen, source): (Double, String) =
            if let threshold { (threshold, thresholdSource) }
            else if let storedThreshold { (storedThreshold, thresholdOrigin) }
            else { (Self.defaultThreshold, "default: the model stores no threshold") }
        var results: [PredictionReport.FilePrediction] = [], errors: [PredictionReport.FileFailure] = []
        for path in files {
            let input: Tensor
            do {
                input = try preprocess(file: path)
            } catch let ClassifierError.undecodableImage(_, _, reason) {
                errors.append(.init(file: path, error: reason))
                continue
            }
            let c = try classify(input, threshold: chosen)[0]
            results.append(.init(file: path, probability: c.probability, prediction: c.label.rawValue))
        }
        return PredictionReport(model: description, input: sampleShape, threshold: chosen, threshold_source: source,
                                results: results, errors: errors)
    }
}
