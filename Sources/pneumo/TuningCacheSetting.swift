import Foundation
import Runtime

/// The command-line tool keeps `auto`'s timed decisions between runs (`TuningCache`): in `PNEUMO_TUNING_CACHE` (a
/// directory, or `off`), else in `$XDG_CACHE_HOME/pneumo/tuning`, else `~/.cache/pneumo/tuning`.
enum TuningCacheSetting {
    static let variable = "PNEUMO_TUNING_CACHE"

    /// The directory, or nil for `off` (also `0`, `none`, `false`, and an empty value).
    static func directory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let value = environment[variable] {
            return ["", "off", "0", "none", "false"].contains(value.lowercased()) ? nil : URL(fileURLWithPath: value, isDirectory: true)
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache", isDirectory: true)
        return base.appendingPathComponent("pneumo/tuning", isDirectory: true)
    }

    /// The cache the settings name, nil where they turn it off.
    static func open() -> TuningCache? { directory().map { TuningCache(directory: $0) } }

    /// Opens the cache for this process and says on standard error when its file could not be used.
    static func enable() {
        guard let cache = open() else { return }
        if let problem = cache.problem { FileHandle.standardError.write(Data("pneumo: tuning cache: \(problem)\n".utf8)) }
        TuningCache.enable(cache)
    }
}
