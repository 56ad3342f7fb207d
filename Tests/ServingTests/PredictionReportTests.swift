import Foundation
import GraphCore
import Serving
import Testing

/// `Classifier.predict(files:)`, the body of `pneumo predict`: its table and JSON keep the CLI's layout and keys.
@Suite struct PredictionReportTests {
    @Test func filesThatDoNotDecodeAreListedAndTheRestClassified() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let classifier = try Classifier(onnx: TinyModel().writeONNX(in: dir))
        let files = [fixture("gray8.png"), fixture("truncated.png"), "/no/such.png", fixture("rgb420.jpg")]
        let report = try classifier.predict(files: files)
        #expect(report.results.map(\.file) == [files[0], files[3]])
        #expect(report.errors.map(\.file) == [files[1], files[2]])
        #expect(report.threshold == 0.3 && report.threshold_source == "stored in the ONNX metadata" && report.input == [1, 28, 28])
        for r in report.results {
            let alone = try classifier.classify(try classifier.preprocess(file: r.file))[0]
            #expect(r.probability == alone.probability && r.prediction == alone.label.rawValue)
        }
        let given = try classifier.predict(files: [files[0]], threshold: 0.9, thresholdSource: "--threshold")
        #expect(given.threshold == 0.9 && given.threshold_source == "--threshold")
    }

    @Test func tableLayout() {
        let report = PredictionReport(model: "pneumonet (ONNX m.onnx)", input: [1, 28, 28], threshold: 0.3, threshold_source: "stored in the ONNX metadata",
                                      results: [.init(file: "a.png", probability: 0.25, prediction: "normal"),
                                                .init(file: "longer-name.jpg", probability: 0.875, prediction: "pneumonia")],
                                      errors: [.init(file: "bad.png", error: "not a PNG or JPEG file")])
        #expect(report.table() == """
            pneumonet (ONNX m.onnx), input 1×28×28
            threshold 0.3 (stored in the ONNX metadata)
            file             P(pneumonia)  prediction
            a.png                  0.2500  normal
            longer-name.jpg        0.8750  pneumonia
            """)
    }

    @Test func jsonKeys() throws {
        let report = PredictionReport(model: "m", input: [1, 28, 28], threshold: 0.5, threshold_source: "default: the model stores no threshold",
                                      results: [.init(file: "a.png", probability: 0.25, prediction: "normal")],
                                      errors: [.init(file: "b.png", error: "cut short")])
        let json = try #require(try JSONSerialization.jsonObject(with: report.prettyJSON()) as? [String: Any])
        #expect(Set(json.keys) == ["model", "input", "threshold", "threshold_source", "results", "errors"])
        let result = try #require((json["results"] as? [[String: Any]])?.first), error = try #require((json["errors"] as? [[String: Any]])?.first)
        #expect(Set(result.keys) == ["file", "probability", "prediction"])
        #expect(Set(error.keys) == ["file", "error"])
    }
}
