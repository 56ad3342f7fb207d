import Foundation

/// The splits a command works on, read from a file once, subset where asked (`DataSubset`), with how long that
/// took: the spec times its data loading (`measure_time("Dataset loading")`), and so do `train`, `eval` and the
/// pipeline.
public struct LoadedSplits: SplitSource {
    public let file: String
    /// Splits in the file, whether loaded or not.
    public let availableSplits: [Split]
    public let subset: DataSubset?
    /// From `start` (before the file was opened, where the caller gives it) to the last split loaded and subset.
    public let seconds: Double
    /// What a reader must know about these splits: a split smaller than its subset share, a share not drawn.
    public let notes: [String]
    private let loaded: [Split: ImageSplit]

    /// Reads `splits` (those the file has; asking later for another throws the file's missing-split error) and
    /// draws `subset` from each.
    public static func load(_ dataset: MedMNISTDataset, splits: [Split], subset: DataSubset?,
                            since start: ContinuousClock.Instant = .now) throws -> LoadedSplits {
        let available = dataset.availableSplits
        var loaded: [Split: ImageSplit] = [:], notes: [String] = []
        for s in Set(splits).sorted() {
            guard available.contains(s) else {
                if let subset { notes.append("subset: this file has no \(s.rawValue) split, so its share of the subset (\(subset.count(for: s)) images) is not drawn") }
                continue
            }
            var split = try dataset.split(s)
            if let subset {
                let (sample, note) = try subset.apply(to: split)
                split = sample
                if let note { notes.append(note) }
            }
            loaded[s] = split
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return LoadedSplits(file: dataset.file, availableSplits: available, subset: subset, seconds: seconds, notes: notes, loaded: loaded)
    }

    public func split(_ split: Split) throws -> ImageSplit {
        if let s = loaded[split] { return s }
        let present = availableSplits.map(\.rawValue).joined(separator: ", ")
        guard availableSplits.contains(split) else {
            throw DataError(.missing, file: file, item: "\(split.rawValue)_images",
                            "the file has no '\(split.rawValue)' split (it has: \(present.isEmpty ? "none" : present))")
        }
        throw DataError(.invalidArgument, file: file, item: "\(split.rawValue)_images", "the \(split.rawValue) split was not loaded")
    }

    /// The loaded splits, in train, val, test order.
    public var splits: [ImageSplit] { loaded.keys.sorted().map { loaded[$0]! } }

    /// What the JSON outputs carry under `data_loading`.
    public var report: DataLoadingReport {
        DataLoadingReport(file: file, seconds: seconds, subset: subset?.total,
                          images: Dictionary(uniqueKeysWithValues: loaded.map { ($0.key.rawValue, $0.value.count) }), notes: notes)
    }

    /// "data: 700 train, 150 val, 150 test images of 28×28 (subset 1000: 70/15/15%, stratified) from FILE, loaded in 0.21 s".
    public var summary: String {
        let counts = splits.map { "\($0.count) \($0.split.rawValue)" }.joined(separator: ", ")
        let size = splits.first.map { " of \($0.height)×\($0.width)" } ?? ""
        let drawn = subset.map { " (subset \($0.total): 70/15/15% of it from train/val/test, stratified)" } ?? ""
        return "data: \(counts) images\(size)\(drawn) from \(file), loaded in \(String(format: "%.2f", seconds)) s"
    }
}

/// `data_loading` in `train --json`, `eval --json` and the pipeline's `data.json` (`loading`).
public struct DataLoadingReport: Codable, Sendable, Equatable {
    public var file: String
    /// Opening the file (and downloading it, where it was not cached), reading the splits and drawing the subset.
    public var seconds: Double
    /// `--subset N`; absent without one.
    public var subset: Int?
    /// Images per split loaded, after the subset.
    public var images: [String: Int]
    public var notes: [String]
}
