import ArgumentParser
import Data
import Deploy
import GraphCore
import Foundation
import ClinicalMetrics
import Serving

/// `pneumo sla`: the spec's performance standard as a scorecard, on the deployed file.
struct SLACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "Score a model against the SLA: < 0.4 GFLOPs/sample, < 100 MB peak memory, < 3 ms latency, > 2000 samples/s, > 98% sensitivity.")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Split to measure sensitivity on: val or test (default: the spec's test, or val where the file has no test split; the threshold is always chosen on val).") var split: String?
    @Option(name: .customLong("target-sensitivity"), help: "Sensitivity the val-chosen threshold must reach (the SLA's 98%).") var targetSensitivity = SpecDefaults.targetSensitivity
    @Option(name: .customLong("threshold-rule"), help: "How the threshold is chosen on val: \(ThresholdRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var thresholdRule = ThresholdRule.wilsonLowerBound
    @Option(help: "Timed batch-1 runs.") var runs = 200
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let split, !["val", "test"].contains(split) { throw ValidationError("--split must be val or test, got \(split)") }
        guard targetSensitivity > 0, targetSensitivity <= 1 else { throw ValidationError("--target-sensitivity must be in (0, 1]") }
        guard runs >= 1 else { throw ValidationError("--runs must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        let card = try scorecard()
        print(json ? try card.jsonString() : card.table())
        if !card.pass { throw ExitCode(3) }
    }

    /// The scorecard `run` prints.
    func scorecard() throws -> SLAScorecard {
        ThreadCount.apply(threads)
        let m = try source.load()
        guard m.sampleShape.count == 3, m.sampleShape[1] == m.sampleShape[2] else {
            throw ValidationError("the model's input must be [N, C, S, S], got [N, \(m.sampleShape.map(String.init).joined(separator: ", "))]")
        }
        let data = try dataset.open(preferredSize: m.sampleShape[1])
        let (reported, fallback) = split.map { (Split(rawValue: $0)!, nil) } ?? SpecDefaults.evaluationSplit(available: data.availableSplits)
        var card = try SLAScorecard.measure(model: m.name, graph: m.graph, parameters: m.parameters, inputName: m.inputName,
                                            sampleShape: m.sampleShape, dataset: data, split: reported,
                                            preprocessing: try Preprocessing(size: m.sampleShape[1], channels: m.sampleShape[0]),
                                            targetSensitivity: targetSensitivity, rule: thresholdRule,
                                            temperature: try temperature(of: m), runs: runs,
                                            progress: { FileHandle.standardError.write(Data("sla: \($0)\n".utf8)) })
        if let fallback { card.spec_differences = [fallback] + (card.spec_differences ?? []) }
        return card
    }

    private func temperature(of model: LoadedModel) throws -> TemperatureScaling {
        do { return try model.temperatureScaling() } catch let error as ClassifierError { throw error.cliError }
    }
}
