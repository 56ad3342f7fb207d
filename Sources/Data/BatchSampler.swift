import GraphCore

/// How an epoch orders (or draws) its samples.
public enum Sampling: String, Sendable, Equatable, CaseIterable {
    /// Dataset order, for evaluation.
    case sequential
    /// A new permutation every epoch.
    case shuffled
    /// `count` draws with replacement, each picking a class uniformly and then an image of it uniformly,
    /// so every class is seen equally often (PyTorch's `WeightedRandomSampler` with 1/class-count
    /// weights). An alternative to class weights in the loss for the 1:2.9 PneumoniaMNIST imbalance.
    case classBalanced
}

/// Index batches for each epoch, reproducible from `(seed, epoch)` alone: epoch 7 yields the same
/// batches whether or not epochs 0–6 were run, so a resumed run sees the data a straight run would.
public struct BatchSampler: Sendable, Equatable {
    public let labels: [Int]
    public let classCount: Int
    public let batchSize: Int
    public let dropLast: Bool
    public let sampling: Sampling
    public let seed: UInt64

    public init(labels: [Int], classCount: Int, batchSize: Int, sampling: Sampling = .shuffled,
                dropLast: Bool = false, seed: UInt64 = 0) throws {
        guard batchSize > 0 else {
            throw DataError(.invalidArgument, file: "batching", "batch size must be positive, got \(batchSize)")
        }
        guard labels.allSatisfy({ (0..<classCount).contains($0) }) else {
            throw DataError(.invalidArgument, file: "batching", "labels must lie in 0..<\(classCount)")
        }
        self.labels = labels
        self.classCount = classCount
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.sampling = sampling
        self.seed = seed
    }

    /// Batches per epoch: ⌈N / B⌉, or ⌊N / B⌋ with `dropLast`.
    public var batchesPerEpoch: Int {
        dropLast ? labels.count / batchSize : (labels.count + batchSize - 1) / batchSize
    }

    /// The generator for `stream` of `epoch` (0: ordering, 1: augmentation), independent of other epochs.
    func random(epoch: Int, stream: UInt64) -> SeededRandom {
        SeededRandom(seed: seed).derived(UInt64(truncatingIfNeeded: epoch) &* 2 &+ stream)
    }

    /// The sample order of `epoch`, before cutting into batches.
    public func order(epoch: Int) -> [Int] {
        var rng = random(epoch: epoch, stream: 0)
        switch sampling {
        case .sequential:
            return Array(labels.indices)
        case .shuffled:
            var order = Array(labels.indices)
            // Fisher–Yates with our own draws, so the permutation does not depend on the standard
            // library's shuffle implementation.
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next(upperBound: UInt64(i + 1))))
            }
            return order
        case .classBalanced:
            var members = [[Int]](repeating: [], count: classCount)
            for (i, label) in labels.enumerated() { members[label].append(i) }
            let present = members.filter { !$0.isEmpty }
            guard !present.isEmpty else { return [] }
            return (0..<labels.count).map { _ in
                let group = present[Int(rng.next(upperBound: UInt64(present.count)))]
                return group[Int(rng.next(upperBound: UInt64(group.count)))]
            }
        }
    }

    /// The index batches of `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        return (0..<batchesPerEpoch).map { b in
            Array(order[(b * batchSize)..<min((b + 1) * batchSize, order.count)])
        }
    }
}
