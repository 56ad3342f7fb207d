import GraphCore

/// Real images to time a model on: the spec profiles a sample batch of val (`get_sample_batch(val_loader)`), not
/// random numbers. Any batch size is served by cycling through the images (image i of a batch is image i mod N).
public struct ProfileSample: Sendable {
    /// `[N, C, H, W]`, preprocessed as the model takes them.
    public let images: Tensor
    /// Where they came from, for the output ("the first 32 val images of FILE").
    public let source: String

    public init(images: Tensor, source: String) throws {
        guard images.rank == 4, images.shape[0] >= 1 else {
            throw EngineError.invalid("profile", "sample images must be [N, C, H, W] with N ≥ 1, got \(images.shape)")
        }
        self.images = images
        self.source = source
    }

    /// `batch` images of `sampleShape` (`[C, H, W]`).
    public func batch(_ batch: Int, sampleShape: [Int]) throws -> Tensor {
        guard Array(images.shape.dropFirst()) == sampleShape else {
            throw EngineError.invalid("profile", "sample images are \(images.shape.dropFirst()), the model takes \(sampleShape)")
        }
        let n = images.shape[0]
        if batch <= n { return images.rows(0..<batch) }
        let all = images.scalars, size = all.count / n
        var scalars: [Float] = []
        scalars.reserveCapacity(batch * size)
        for i in 0..<batch { scalars += all[(i % n) * size..<(i % n + 1) * size] }
        return try Tensor(shape: [batch] + sampleShape, scalars: scalars)
    }
}
