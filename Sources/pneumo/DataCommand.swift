import ArgumentParser
import Data
import Foundation

/// `pneumo data`: what is in the data set before anything is trained on it. A thin shell over
/// `DatasetCache`, `MedMNISTDataset`, `DatasetReport` and `SampleGrid`.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Show the PneumoniaMNIST splits: counts per class, imbalance, pixel statistics.",
        discussion: """
            Without --data, reads pneumoniamnist.npz (28 px) or pneumoniamnist_<size>.npz from the cache \
            directory, downloading it from MedMNIST's Zenodo record and checking its MD5 when it is absent. \
            The cache directory is --cache-dir, else $\(DatasetCache.environmentVariable), else ~/.medmnist \
            (shared with the medmnist Python package). Pixel statistics are on the [0, 1] scale.
            """)

    @Option(help: ArgumentHelp("A MedMNIST .npz file to read instead of the cached download.", valueName: "file"))
    var data: String?

    @Option(help: ArgumentHelp("Image size of the download: 28, 64, 128 or 224 (default: the spec's 64).", valueName: "n"))
    var size: Int?

    @Flag(help: "Print JSON (keys: file, image_size, splits, loading) instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Write an SVG grid of labelled training images to this path.", valueName: "out.svg"))
    var samples: String?

    @Option(help: ArgumentHelp("How many images the sample grid shows.", valueName: "n"))
    var sampleCount = 16

    @Option(help: ArgumentHelp("Where downloads are kept (default $\(DatasetCache.environmentVariable) or ~/.medmnist).",
                               valueName: "dir"))
    var cacheDir: String?

    func validate() throws {
        if let samples { try OutputPath.file(samples, "--samples") }
        if let size, !PneumoniaMNIST.sizes.contains(size) {
            throw ValidationError("--size must be one of \(PneumoniaMNIST.sizes.map(String.init).joined(separator: ", ")); got \(size)")
        }
        if let data {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--data: no such file: \(data)")
            }
            if cacheDir != nil { throw ValidationError("--cache-dir applies to downloads; it cannot be used with --data") }
        }
        guard (1...1024).contains(sampleCount) else {
            throw ValidationError("--sample-count must be in 1…1024; got \(sampleCount)")
        }
    }

    func run() throws {
        let start = ContinuousClock.now
        let url: URL
        if let data {
            url = URL(fileURLWithPath: data)
        } else {
            let cache = DatasetCache.resolve(flag: cacheDir)
            let remote = try PneumoniaMNIST.file(size: size ?? SpecDefaults.imageSize)
            if try cache.cached(remote) == nil { note("downloading \(remote.url.absoluteString) to \(cache.path(for: remote).path)") }
            url = try cache.fetch(remote)
        }
        let dataset = try MedMNISTDataset(contentsOf: url)
        // Timed as the spec times its data loading: the file opened (downloaded where needed) and every split read.
        let loaded = try LoadedSplits.load(dataset, splits: dataset.availableSplits, subset: nil, since: start)
        let splits = loaded.splits
        let report = try DatasetReport(file: dataset.file, task: dataset.task, splits: splits)
        if let size, report.height != size {
            throw DataError(.mismatch, file: url.path, "--size \(size) was given, but the images are \(report.height)×\(report.width)")
        }
        var loading = loaded.report
        if size == nil, let note = SpecDefaults.imageSizeNote(fileSize: report.height) { loading.notes.append(note) }
        print(json ? report.json(loading: loading)
                   : ([report.table(), loaded.summary] + loading.notes.map { "note: " + $0 }).joined(separator: "\n"))

        if let samples, let split = splits.first(where: { $0.split == .train }) ?? splits.first {
            let indices = SampleGrid.choose(from: split, count: sampleCount)
            try SampleGrid.write(split, indices: indices, classNames: dataset.task.classNames, to: URL(fileURLWithPath: samples),
                                 title: "\(dataset.task.name) \(split.split.rawValue), \(report.height)×\(report.width)")
            note("wrote \(indices.count) \(split.split.rawValue) samples to \(samples)")
        }
    }

    /// Progress goes to stderr so that `--json` output stays parseable.
    private func note(_ message: String) {
        FileHandle.standardError.write(Foundation.Data((message + "\n").utf8))
    }
}
