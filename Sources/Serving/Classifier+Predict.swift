import Foundation
import GraphCore
import Imaging

extension Classifier {
    /// Calibrated P(pneumonia) of each image of `batch`.
    ///
    /// # Shapes
    /// `batch`: `[N, C, S, S]`, N ≥ 1, preprocessed (`preprocess`); result: N probabilities in batch order.
    /// A batch gives each image the probability it gets alone, within float32 rounding of the plan compiled for N.
    public func probabilities(_ batch: Tensor) throws -> [Double] {
        guard batch.rank == 4, batch.shape[0] >= 1, Array(batch.shape.dropFirst()) == sampleShape else {
            throw ClassifierError.wrongShape(expected: sampleShape, got: batch.shape)
        }
        try Self.requireFinite(batch)
        return temperature.apply(try runtime.run(batch).positiveClassProbabilities())
    }

    /// P(pneumonia) and the label of each image of `batch` (`[N, C, S, S]`, preprocessed) at `threshold`
    /// (default: the model's, `threshold`).
    public func classify(_ batch: Tensor, threshold: Double? = nil) throws -> [Classification] {
        let t = try Self.checked(threshold ?? self.threshold)
        return try probabilities(batch).map { Classification(probability: $0, threshold: t) }
    }

    /// Decodes PNG or JPEG bytes (gray or colour, any size) and preprocesses them into one `[N, C, S, S]` batch, as
    /// `pneumo predict` does files. The first image that does not decode throws `.undecodableImage` naming it.
    public func preprocess(_ images: [EncodedImage]) throws -> Tensor {
        let gray = try images.map { image in
            do {
                return try ImageFile.decodePixels(data: Data(image.data), name: image.name).gray
            } catch let error as ImageError {
                throw ClassifierError.undecodableImage(name: image.name, kind: error.kind, reason: error.message)
            }
        }
        return preprocessing.tensor(gray)
    }

    /// Reads, decodes and preprocesses one PNG or JPEG file into `[1, C, S, S]` (regular files within
    /// `ImageFile`'s size limits only: not a FIFO, not /dev/zero).
    public func preprocess(file path: String) throws -> Tensor {
        do {
            return preprocessing.tensor(try ImageFile.decode(url: URL(fileURLWithPath: path)))
        } catch let error as ImageError {
            throw ClassifierError.undecodableImage(name: path, kind: error.kind, reason: error.message)
        }
    }

    /// `preprocess` then `classify`: one result per image, in order. An empty list gives an empty result.
    public func classify(_ images: [EncodedImage], threshold: Double? = nil) throws -> [Classification] {
        guard !images.isEmpty else { return [] }
        return try classify(try preprocess(images), threshold: threshold)
    }

    private static func checked(_ threshold: Double) throws -> Double {
        guard (0...1).contains(threshold) else { throw ClassifierError.invalidThreshold(threshold) }
        return threshold
    }

    private static func requireFinite(_ batch: Tensor) throws {
        guard let (i, value) = batch.withUnsafeBufferPointer({ b in b.firstIndex { !$0.isFinite }.map { ($0, b[$0]) } }) else { return }
        var index = [Int](repeating: 0, count: batch.rank), rest = i
        for d in batch.shape.indices.reversed() { (rest, index[d]) = rest.quotientAndRemainder(dividingBy: batch.shape[d]) }
        throw ClassifierError.nonFiniteInput(index: index, value: value)
    }
}
