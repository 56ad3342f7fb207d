import Data
import Foundation
import ClinicalMetrics
import NN

/// Two models on the same images: their AUCs and DeLong's paired test of the difference (the pipeline's
/// baseline against its optimized model, `pneumo eval --compare`).
public struct ModelComparison: Codable, Sendable {
    public var split: String
    public var samples: Int
    public var model_a: String
    public var model_b: String
    public var auc_a_ci95: ConfidenceInterval?
    public var auc_b_ci95: ConfidenceInterval?
    /// DeLong's test: auc_a − auc_b, its 95% interval, z and the two-sided p-value.
    public var delong: DeLong.Comparison

    public static func run(_ a: (name: String, checkpoint: Checkpoint), _ b: (name: String, checkpoint: Checkpoint),
                           dataset: some SplitSource, split: Split, batchSize: Int, backend: any Backend) throws -> ModelComparison {
        let sa = try Self.scores(a.checkpoint, dataset: dataset, split: split, batchSize: batchSize, backend: backend)
        let sb = try Self.scores(b.checkpoint, dataset: dataset, split: split, batchSize: batchSize, backend: backend)
        guard let test = DeLong.compare(scoresA: sa.scores, scoresB: sb.scores, labels: sa.labels) else {
            throw TrainingError("\(dataset.file): the \(split.rawValue) split needs at least two images of each class to compare AUCs")
        }
        return ModelComparison(split: split.rawValue, samples: sa.labels.count, model_a: a.name, model_b: b.name,
                               auc_a_ci95: DeLong.components(scores: sa.scores, labels: sa.labels)?.interval(),
                               auc_b_ci95: DeLong.components(scores: sb.scores, labels: sb.labels)?.interval(), delong: test)
    }

    /// P(pneumonia) of `checkpoint` (its own input size and channels) on `split`.
    static func scores(_ checkpoint: Checkpoint, dataset: some SplitSource, split: Split, batchSize: Int,
                       backend: any Backend) throws -> Predictions {
        let d = checkpoint.descriptor
        let loader = try DataLoader(try dataset.split(split), batchSize: batchSize, sampling: .sequential,
                                    preprocessing: try Preprocessing(size: d.input_size, channels: d.channels))
        return try Evaluator.predict(graph: try checkpoint.graph().appendingLoss(), parameters: checkpoint.parameters, loader: loader,
                                     backend: backend)
    }

    public func table() -> String {
        String(format: "%@ vs %@ on %@ (%d images): AUC %.4f vs %.4f, difference %+.4f [%+.4f, %+.4f], z %.2f, p %.4f (DeLong, paired)",
               model_a, model_b, split, samples, delong.auc_a, delong.auc_b, delong.difference, delong.difference_ci95.lower,
               delong.difference_ci95.upper, delong.z, delong.p_value)
    }
}
