import ArgumentParser
import Data
import CPUBackend
import GraphCore
import Foundation

/// `--data FILE` or a cached PneumoniaMNIST download (`--data-size`, `--cache-dir`), shared by the
/// commands that read the dataset.
struct DatasetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A MedMNIST .npz file (default: the PneumoniaMNIST download, fetched once into the cache).", valueName: "file"))
    var data: String?

    @Option(name: .customLong("data-size"), help: ArgumentHelp("Which PneumoniaMNIST download to use without --data: 28, 64, 128 or 224 (default: the model's input size when it is one of them, else the spec's 64).", valueName: "n"))
    var dataSize: Int?

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Where downloads are kept (default $\(DatasetCache.environmentVariable) or ~/.medmnist).", valueName: "dir"))
    var cacheDir: String?

    func validate() throws {
        if let dataSize, !PneumoniaMNIST.sizes.contains(dataSize) {
            throw ValidationError("--data-size must be one of \(PneumoniaMNIST.sizes.map(String.init).joined(separator: ", ")); got \(dataSize)")
        }
        if let data {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) else {
                throw ValidationError("--data: no such file: \(data)")
            }
            if isDirectory.boolValue { throw ValidationError("--data is a directory, not a MedMNIST .npz file: \(data)") }
        }
    }

    /// Opens the dataset, downloading (with MD5 check) when needed.
    func open(preferredSize: Int?) throws -> MedMNISTDataset {
        if let data { return try MedMNISTDataset(contentsOf: URL(fileURLWithPath: data)) }
        let (cache, remote) = try download(preferredSize: preferredSize)
        if try cache.cached(remote) == nil {
            FileHandle.standardError.write(Data("downloading \(remote.url.absoluteString) to \(cache.path(for: remote).path)\n".utf8))
        }
        return try MedMNISTDataset(contentsOf: cache.fetch(remote))
    }

    /// `--data`, or the download when it is already cached; nil otherwise (nothing is downloaded).
    func openIfPresent(preferredSize: Int?) throws -> MedMNISTDataset? {
        if data != nil { return try open(preferredSize: preferredSize) }
        let (cache, remote) = try download(preferredSize: preferredSize)
        return try cache.cached(remote).map { try MedMNISTDataset(contentsOf: $0) }
    }

    /// The download these options name: `--data-size`, else `preferredSize` where PneumoniaMNIST has it, else the spec's 64.
    private func download(preferredSize: Int?) throws -> (DatasetCache, RemoteFile) {
        let size = dataSize ?? preferredSize.flatMap { PneumoniaMNIST.sizes.contains($0) ? $0 : nil } ?? SpecDefaults.imageSize
        return (DatasetCache.resolve(flag: cacheDir), try PneumoniaMNIST.file(size: size))
    }

    /// Opens the dataset and loads `splits` (those it has), subset as `--subset` says, timing it all.
    func load(preferredSize: Int?, splits: [Split], subset: SubsetOption) throws -> LoadedSplits {
        let start = ContinuousClock.now
        return try LoadedSplits.load(try open(preferredSize: preferredSize), splits: splits, subset: try subset.value, since: start)
    }
}

/// `--subset N`, shared by `train`, `eval` and `pipeline`.
struct SubsetOption: ParsableArguments {
    @Option(name: .customLong("subset"), parsing: .unconditional,
            help: ArgumentHelp("Use N images in all, as the spec's subset_size: 70% of N drawn from train, 15% from val, 15% from test, each keeping its split's class balance (a fixed seed, so train and eval draw the same images); a split smaller than its share is used whole.", valueName: "n"))
    var total: Int?

    func validate() throws {
        if let total, total < DataSubset.minimum {
            throw ValidationError("--subset must be at least \(DataSubset.minimum) (70/15/15% of it over train/val/test, one image at least in each), got \(total)")
        }
    }

    var value: DataSubset? { get throws { try total.map(DataSubset.init(total:)) } }
}

/// `--threads` and `--backend`, shared by the commands that run models.
struct EngineOptions: ParsableArguments {
    // `.unconditional`: `--threads -1` reaches validate() instead of reading as a missing value and a flag.
    @Option(parsing: .unconditional, help: "Threads for the kernels (default: all cores; more are capped at the cores).") var threads: Int?
    @Option(help: ArgumentHelp("Backend: onednn or reference (slow; for checks).", valueName: "name")) var backend = BackendName.onednn

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    /// Applies the thread count (capped at the cores) and returns the backend.
    func makeBackend() throws -> any Backend {
        ThreadCount.apply(threads)
        return try Devices.withBackend(named: backend.description).backend
    }
}
