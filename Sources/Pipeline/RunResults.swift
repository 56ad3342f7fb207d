import FileSafety
import Foundation
import Train

/// `results.json`: the whole run in one file, as the spec's `baseline_results.pkl` keeps it: the configuration, the
/// training configurations, the dataset information, how long each stage took, and every result, each under the key
/// of the model it belongs to. It nests the run's own files unchanged, so a script reads one file instead of twelve.
enum RunResults {
    static let fileName = "results.json"

    /// Which file goes where: (key path, file). A file the run did not write is left out.
    static let layout: [([String], String)] = [
        (["dataset_info"], "data.json"),
        (["baseline", "history"], "baseline/history.json"),
        (["baseline", "eval_results"], "eval.json"),
        (["baseline", "profile"], "profile_baseline.json"),
        (["baseline", "sla"], "sla_baseline.json"),
        (["optimized", "history"], "optimized/history.json"),
        (["optimized", "eval_results"], "eval_optimized.json"),
        (["optimized", "profile"], "profile_optimized.json"),
        (["optimized", "sla"], "sla_optimized.json"),
        (["optimized_int8", "sla"], "sla_optimized_int8.json"),
        (["analysis"], "analysis.json"),
        (["comparison"], "comparison.json"),
    ]

    static func write(in directory: URL, options: Pipeline.Options, state: PipelineProgress.State?) throws {
        var root: [String: Any] = ["baseline": ["model_name": options.baselineModel], "optimized": ["model_name": options.optimizedModel]]
        if let state {
            root["config"] = state.settings
            root["stage_seconds"] = state.seconds
        }
        root["training_config"] = [
            "baseline": try object(options.baselineTraining.with(epochs: options.baselineEpochs)),
            "optimized": try object(options.optimizedEpochs.map { options.training.with(epochs: $0) } ?? options.training),
        ]
        for (path, file) in layout {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(file)) else { continue }
            let value: Any
            do { value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
                throw PipelineError("\(directory.appendingPathComponent(file).path) is not JSON (\(error)); results.json is built from it")
            }
            set(&root, path, value)
        }
        let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: directory.appendingPathComponent(fileName))
    }

    static func object(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
    }

    static func set(_ dict: inout [String: Any], _ path: [String], _ value: Any) {
        guard let key = path.first else { return }
        if path.count == 1 { dict[key] = value; return }
        var inner = dict[key] as? [String: Any] ?? [:]
        set(&inner, Array(path.dropFirst()), value)
        dict[key] = inner
    }
}

extension TrainingConfig {
    func with(epochs: Int) -> TrainingConfig { var c = self; c.epochs = epochs; return c }
}
