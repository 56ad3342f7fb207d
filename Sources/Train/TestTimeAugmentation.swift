import Data
import GraphCore
import Foundation
import NN

/// Test-time augmentation: P(pneumonia) averaged over a few fixed, mild views of each image (the original,
/// ±5° rotations, 8% zoom in and out), the same kinds of change as `Augmentation.radiograph` trains on. It
/// costs one forward pass per view, so a deployment that wants it multiplies its compute by `views.count`.
public struct TestTimeAugmentation: Sendable {
    public let views: [ImageTransform]

    public init(views: [ImageTransform]) { self.views = views }

    public static let standard = TestTimeAugmentation(views: [
        .identity, ImageTransform(rotationDegrees: 5), ImageTransform(rotationDegrees: -5),
        ImageTransform(scale: 1.08), ImageTransform(scale: 0.93),
    ])

    /// Mean P(pneumonia) over the views for every image of `split`, with the loss of the plain view.
    public func predict(graph: Graph, parameters: ParameterStore, split: ImageSplit, preprocessing: Preprocessing,
                        batchSize: Int, backend: any Backend) throws -> Predictions {
        let executor = Executor(graph: graph, backend: backend)
        var params = parameters
        var rng = SeededRandom(seed: 0)
        var sums = [Double](repeating: 0, count: split.count)
        var lossSum = 0.0
        for (v, view) in views.enumerated() {
            for start in stride(from: 0, to: split.count, by: batchSize) {
                let indices = Array(start..<min(start + batchSize, split.count))
                let labels = try Tensor(shape: [indices.count], scalars: indices.map { Float(split.labels[$0]) })
                let pass = try executor.forward(feeds: ["image": preprocessing.images(split, indices: indices, transform: view), "label": labels],
                                                parameters: &params, mode: .inference, rng: &rng)
                for (i, p) in try pass[graph.outputs[0]]!.positiveClassProbabilities().enumerated() { sums[indices[i]] += p }
                if v == 0 { lossSum += Double(pass[graph.outputs[1]]!.scalars[0]) * Double(indices.count) }
            }
        }
        return Predictions(scores: sums.map { $0 / Double(views.count) }, labels: split.labels,
                           loss: lossSum / Double(max(split.count, 1)))
    }
}
