import Data
import Foundation
import Metrics
import Models
import NN

/// Scores of a model on a split: P(pneumonia) per image, with the mean loss.
public struct Predictions: Sendable {
    public var scores: [Double]
    public var labels: [Int]
    public var loss: Double

    public var accuracy: Double { ThresholdMetrics(scores: scores, labels: labels, threshold: 0.5).accuracy }
    public var auc: Double? { BinaryMetrics.auc(scores: scores, labels: labels) }
}

public enum Evaluator {
    /// Runs `graph` (outputs `[logits, loss]`, inputs `image`, `label`) in inference mode over every batch.
    public static func predict(graph: Graph, parameters: ParameterStore, loader: DataLoader, backend: any Backend) throws -> Predictions {
        let executor = Executor(graph: graph, backend: backend)
        var params = parameters
        var rng = SeededRandom(seed: 0)
        var scores: [Double] = [], labels: [Int] = []
        var lossSum = 0.0
        for batch in loader.epoch(0) {
            let pass = try executor.forward(feeds: ["image": batch.images, "label": batch.labels], parameters: &params,
                                            mode: .inference, rng: &rng)
            let logits = pass[graph.outputs[0]]!.scalars
            lossSum += Double(pass[graph.outputs[1]]!.scalars[0]) * Double(batch.indices.count)
            let k = logits.count / batch.indices.count
            for r in 0..<batch.indices.count {
                // softmax(logits)[1] for two classes = σ(l₁ − l₀)
                scores.append(1 / (1 + exp(Double(logits[r * k] - logits[r * k + 1]))))
            }
            labels += batch.labels.scalars.map { Int($0) }
        }
        return Predictions(scores: scores, labels: labels, loss: lossSum / Double(max(labels.count, 1)))
    }
}
