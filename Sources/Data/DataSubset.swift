import GraphCore

/// The spec's `subset_size` (`--subset N`): N images in all, drawn from each split in the shares of the spec's
/// CONFIG — `subset_size * 0.7` from train, `* 0.15` from val and `* 0.15` from test — each share keeping its
/// split's class proportions (stratified, as the spec's loader keeps the pneumonia ratio).
///
/// Draws use one fixed seed, not the training seed, so that `train --subset N` and a later `eval --subset N`
/// see the same val and test images. Shares are whole images, rounded down (N = 1000: 700, 150, 150).
public struct DataSubset: Sendable, Equatable {
    /// Percent of N drawn from each split.
    public static let shares: [Split: Int] = [.train: 70, .val: 15, .test: 15]
    /// The spec's `set_deterministic_mode(42)`.
    public static let seed: UInt64 = 42
    /// The smallest N whose val and test shares hold an image each.
    public static let minimum = 7

    public let total: Int

    public init(total: Int) throws {
        guard total >= Self.minimum else {
            throw DataError(.invalidArgument, file: "subset",
                            "--subset must be at least \(Self.minimum) (N images split 70/15/15% over train/val/test, one at least in each), got \(total)")
        }
        self.total = total
    }

    /// Images of `split` in the subset.
    public func count(for split: Split) -> Int { total * Self.shares[split]! / 100 }

    /// `split`'s share, stratified; the whole split where it holds no more than its share (then `note` says so).
    public func apply(to split: ImageSplit) throws -> (split: ImageSplit, note: String?) {
        let n = count(for: split.split)
        guard n < split.count else {
            return (split, "subset: the \(split.split.rawValue) split holds \(split.count) images, no more than its share \(n) of \(total); using all")
        }
        return (try split.stratifiedSample(n, seed: Self.seed), nil)
    }
}

extension ImageSplit {
    /// `n` images (at most `count`) in this split's class proportions: each class gets ⌊n · its share⌋, the
    /// images left over go to the classes with the largest remainders (ties to the lower class), and each class's
    /// images are a seeded shuffle's first ones. Returned in file order, so loaders see them as the file has them.
    public func stratifiedSample(_ n: Int, seed: UInt64) throws -> ImageSplit {
        let n = Swift.max(0, Swift.min(n, count))
        let counts = classCounts
        var quota = counts.map { count == 0 ? 0 : n * $0 / count }
        let byRemainder = counts.indices.sorted { a, b in
            let (ra, rb) = (n * counts[a] % Swift.max(count, 1), n * counts[b] % Swift.max(count, 1))
            return ra != rb ? ra > rb : a < b
        }
        for c in byRemainder.prefix(n - quota.reduce(0, +)) { quota[c] += 1 }
        var rng = SeededRandom(seed: seed)
        var chosen: [Int] = []
        for c in counts.indices {
            var members = labels.indices.filter { labels[$0] == c }
            // Fisher–Yates with the seeded generator: the same subset on every platform.
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            chosen += members.prefix(quota[c])
        }
        return try subset(chosen.sorted())
    }
}
