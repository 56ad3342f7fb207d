import Foundation
import Testing
@testable import Data
import TestSupport

/// `--subset N` (the spec's subset_size): 70/15/15% of N from train/val/test, each share stratified and the same on
/// every run.
struct DataSubsetTests {
    @Test(arguments: [(1000, 700, 150, 150), (7, 4, 1, 1), (100, 70, 15, 15), (333, 233, 49, 49)])
    func sharesOfN(_ n: Int, _ train: Int, _ val: Int, _ test: Int) throws {
        let s = try DataSubset(total: n)
        let counts: [Int] = [s.count(for: .train), s.count(for: .val), s.count(for: .test)]
        #expect(counts == [train, val, test])
    }

    @Test func tooSmallIsRefusedWithWhy() {
        let error = #expect(throws: DataError.self) { try DataSubset(total: 6) }
        #expect(error?.message == "--subset must be at least 7 (N images split 70/15/15% over train/val/test, one at least in each), got 6")
    }

    /// Image i has pixel value i, so the chosen images can be told apart.
    static func split(normal: Int, pneumonia: Int, as name: Split = .train) throws -> ImageSplit {
        let labels = (0..<(normal + pneumonia)).map { $0 < normal ? 0 : 1 }.shuffledDeterministically()
        return try ImageSplit(split: name, height: 1, width: 1, channels: 1, pixels: labels.indices.map { UInt8($0) }, labels: labels,
                              classCount: 2)
    }

    @Test(arguments: [(30, 70, 10, 3, 7), (30, 70, 15, 5, 10), (1, 2, 2, 1, 1), (50, 50, 1, 1, 0), (0, 40, 5, 0, 5)])
    func stratifiedSampleKeepsTheClassShares(_ normal: Int, _ pneumonia: Int, _ n: Int, _ wantNormal: Int, _ wantPneumonia: Int) throws {
        let s = try Self.split(normal: normal, pneumonia: pneumonia)
        let sample = try s.stratifiedSample(n, seed: 42)
        #expect(sample.count == n && sample.classCounts == [wantNormal, wantPneumonia])
        // Images of the split, each once, in file order, with their own labels.
        let chosen = sample.pixels.map(Int.init)
        #expect(chosen == chosen.sorted() && Set(chosen).count == n)
        #expect(chosen.map { s.labels[$0] } == sample.labels)
        // The same draw every time; another seed, another draw.
        #expect(try s.stratifiedSample(n, seed: 42) == sample)
    }

    @Test func anotherSeedDrawsOtherImages() throws {
        let s = try Self.split(normal: 30, pneumonia: 70)
        #expect(try s.stratifiedSample(20, seed: 42).pixels != s.stratifiedSample(20, seed: 7).pixels)
    }

    @Test func aSplitSmallerThanItsShareIsUsedWhole() throws {
        let subset = try DataSubset(total: 100)
        let small = try Self.split(normal: 4, pneumonia: 6, as: .val)
        let (kept, note) = try subset.apply(to: small)
        #expect(kept == small)
        #expect(note == "subset: the val split holds 10 images, no more than its share 15 of 100; using all")
        let (drawn, none) = try subset.apply(to: try Self.split(normal: 40, pneumonia: 60, as: .val))
        #expect(drawn.count == 15 && drawn.classCounts == [6, 9] && none == nil)
    }

    static func file(train: Int, val: Int, test: Int?) throws -> MedMNISTDataset {
        var members = splitMembers("train", labels: (0..<train).map { UInt8($0 % 3 == 0 ? 0 : 1) })
            + splitMembers("val", labels: (0..<val).map { UInt8($0 % 3 == 0 ? 0 : 1) })
        if let test { members += splitMembers("test", labels: (0..<test).map { UInt8($0 % 3 == 0 ? 0 : 1) }) }
        return MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "m.npz"))
    }

    @Test func loadedSplitsAreSubsetAndTimed() throws {
        let start = ContinuousClock.now
        let data = try LoadedSplits.load(try Self.file(train: 90, val: 30, test: 30), splits: Split.allCases,
                                         subset: try DataSubset(total: 100), since: start)
        #expect(try [data.split(.train).count, data.split(.val).count, data.split(.test).count] == [70, 15, 15])
        #expect(try data.split(.val).classCounts == [5, 10])
        #expect(data.seconds > 0)
        #expect(data.report == DataLoadingReport(file: "m.npz", seconds: data.seconds, subset: 100,
                                                 images: ["train": 70, "val": 15, "test": 15], notes: []))
        #expect(data.summary.hasPrefix("data: 70 train, 15 val, 15 test images of 3×3 (subset 100: 70/15/15% of it from train/val/test, stratified) from m.npz, loaded in "))
        #expect(data.summary.hasSuffix(" s"))
    }

    @Test func aMissingSplitIsSaidAndAskingForItFails() throws {
        let data = try LoadedSplits.load(try Self.file(train: 20, val: 10, test: nil), splits: Split.allCases, subset: try DataSubset(total: 20))
        #expect(data.notes == ["subset: this file has no test split, so its share of the subset (3 images) is not drawn"])
        let error = #expect(throws: DataError.self) { try data.split(.test) }
        #expect(error?.message == "the file has no 'test' split (it has: train, val)")
        // Without a subset nothing is said, and every image is there.
        let whole = try LoadedSplits.load(try Self.file(train: 20, val: 10, test: nil), splits: [.train, .val], subset: nil)
        #expect(whole.notes.isEmpty && whole.report.subset == nil && whole.splits.map(\.count) == [20, 10])
        // A split the file has but the caller did not load is refused too, not read behind its back.
        let trainOnly = try LoadedSplits.load(try Self.file(train: 20, val: 10, test: 10), splits: [.train], subset: nil)
        #expect(throws: DataError.self) { try trainOnly.split(.val) }
    }
}

extension Array {
    /// A fixed permutation (labels interleaved as in a real file rather than sorted by class).
    fileprivate func shuffledDeterministically() -> [Element] {
        var g = SplitMix(state: 3), out = self
        for i in stride(from: count - 1, to: 0, by: -1) { out.swapAt(i, Int(g.next() % UInt64(i + 1))) }
        return out
    }
}

private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
