import Data
import Foundation
import ClinicalMetrics
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
            lossSum += Double(pass[graph.outputs[1]]!.scalars[0]) * Double(batch.indices.count)
            scores += try pass[graph.outputs[0]]!.positiveClassProbabilities()
            labels += batch.labels.scalars.map { Int($0) }
        }
        return Predictions(scores: scores, labels: labels, loss: lossSum / Double(max(labels.count, 1)))
    }
}
