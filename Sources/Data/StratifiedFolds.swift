import GraphCore

/// K stratified folds of a labelled set, as scikit-learn's `StratifiedKFold(shuffle=True)`: each class's
/// indices are shuffled with the seed and dealt round-robin, so every fold holds each class in the same
/// proportion (within one image), the folds are disjoint, and together they cover every index once.
public struct StratifiedFolds: Sendable, Equatable {
    /// Image indices of each fold, ascending.
    public let folds: [[Int]]

    public init(labels: [Int], folds k: Int, seed: UInt64) throws {
        guard k >= 2 else { throw DataError(.invalidArgument, file: "folds", "cross-validation needs at least 2 folds, got \(k)") }
        let classes = Set(labels).sorted()
        for c in classes where labels.filter({ $0 == c }).count < k {
            throw DataError(.invalidArgument, file: "folds",
                            "class \(c) has \(labels.filter { $0 == c }.count) images, fewer than the \(k) folds")
        }
        var folds = [[Int]](repeating: [], count: k)
        var rng = SeededRandom(seed: seed)
        var offset = 0
        for c in classes {
            var members = labels.indices.filter { labels[$0] == c }
            // Fisher–Yates with the seeded generator: the same folds on every platform.
            for i in stride(from: members.count - 1, to: 0, by: -1) {
                members.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            // Each class starts dealing where the previous one stopped, so fold sizes differ by at most one.
            for (j, index) in members.enumerated() { folds[(offset + j) % k].append(index) }
            offset = (offset + members.count) % k
        }
        self.folds = folds.map { $0.sorted() }
    }

    public var count: Int { folds.count }
}

extension ImageSplit {
    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int], as split: Split? = nil) throws -> ImageSplit {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(indices.count * imageSize)
        for i in indices {
            guard (0..<count).contains(i) else {
                throw DataError(.invalidArgument, file: "subset", "image index \(i) outside 0..<\(count)")
            }
            bytes += image(i)
        }
        return try ImageSplit(split: split ?? self.split, height: height, width: width, channels: channels, pixels: bytes,
                              labels: indices.map { labels[$0] }, classCount: classCount)
    }

    /// This split's images followed by `other`'s (same size and channels).
    public func concatenated(with other: ImageSplit, as split: Split) throws -> ImageSplit {
        guard other.height == height, other.width == width, other.channels == channels, other.classCount == classCount else {
            throw DataError(.mismatch, file: "concatenate",
                            "\(self.split.rawValue) is \(height)×\(width)×\(channels), \(other.split.rawValue) \(other.height)×\(other.width)×\(other.channels)")
        }
        return try ImageSplit(split: split, height: height, width: width, channels: channels, pixels: pixels + other.pixels,
                              labels: labels + other.labels, classCount: classCount)
    }
}
