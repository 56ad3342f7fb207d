import GraphCore

/// One training step's input.
public struct Batch: Sendable {
    /// `[B, C, H, W]`, preprocessed.
    public let images: Tensor
    /// `[B]` class indices as Float (the form the cross-entropy loss takes).
    public let labels: Tensor
    /// Which images of the split these are.
    public let indices: [Int]
}

/// Batches of preprocessed images for a split: a `BatchSampler` for the order, `Preprocessing` (and,
/// for training, `Augmentation`) for the pixels.
public struct DataLoader: Sendable {
    public let data: ImageSplit
    public let preprocessing: Preprocessing
    public let augmentation: Augmentation?
    public let sampler: BatchSampler

    public init(_ data: ImageSplit, batchSize: Int, sampling: Sampling = .shuffled, dropLast: Bool = false,
                preprocessing: Preprocessing, augmentation: Augmentation? = nil, seed: UInt64 = 0) throws {
        self.data = data
        self.preprocessing = preprocessing
        self.augmentation = augmentation
        sampler = try BatchSampler(labels: data.labels, classCount: data.classCount, batchSize: batchSize,
                                   sampling: sampling, dropLast: dropLast, seed: seed)
    }

    public var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// The batches of `epoch`, made lazily one at a time (only one batch of floats is alive at once).
    public func epoch(_ epoch: Int) -> BatchIterator {
        BatchIterator(loader: self, batches: sampler.batches(epoch: epoch),
                      augmentationRandom: sampler.random(epoch: epoch, stream: 1))
    }
}

/// Iterates one epoch's batches. Batch `b`'s augmentation draws come from a generator derived from the
/// epoch's generator and `b`, so skipping batches does not change the ones after.
public struct BatchIterator: IteratorProtocol, Sequence, Sendable {
    let loader: DataLoader
    let batches: [[Int]]
    let augmentationRandom: SeededRandom
    private var position = 0

    init(loader: DataLoader, batches: [[Int]], augmentationRandom: SeededRandom) {
        self.loader = loader
        self.batches = batches
        self.augmentationRandom = augmentationRandom
    }

    public mutating func next() -> Batch? {
        guard position < batches.count else { return nil }
        let indices = batches[position]
        var rng = augmentationRandom.derived(UInt64(position))
        position += 1
        let images = loader.preprocessing.images(loader.data, indices: indices, augmentation: loader.augmentation, rng: &rng)
        // Class indices are < 2^24, so they are exact in Float.
        let labels = try! Tensor(shape: [indices.count], scalars: indices.map { Float(loader.data.labels[$0]) })
        return Batch(images: images, labels: labels, indices: indices)
    }
}
