import Foundation

/// Where data sets live on disk, and the only way files get there: downloaded to a temporary name in the
/// cache directory, MD5-verified, then renamed. A crash or a cut connection therefore leaves at most a
/// `.name.partial-…` file, never one under the real name that looks complete.
public struct DatasetCache: Sendable {
    public let directory: URL

    /// The environment variable that overrides the default directory.
    public static let environmentVariable = "PNEUMO_DATA_DIR"

    public init(directory: URL) {
        self.directory = directory
    }

    /// The directory to use: `flag` if given, else `$PNEUMO_DATA_DIR`, else `~/.medmnist` (the default
    /// of the `medmnist` Python package, so both share one download).
    public static func resolve(flag: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> DatasetCache {
        if let flag, !flag.isEmpty { return DatasetCache(directory: URL(fileURLWithPath: expand(flag))) }
        if let value = environment[environmentVariable], !value.isEmpty {
            return DatasetCache(directory: URL(fileURLWithPath: expand(value)))
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return DatasetCache(directory: home.appendingPathComponent(".medmnist"))
    }

    public func path(for file: RemoteFile) -> URL {
        directory.appendingPathComponent(file.name)
    }

    /// The cached copy of `file` if it is present and its MD5 matches; throws `.checksum` for a present
    /// file that does not match (it is left alone: it may be the user's own, and they should decide).
    public func cached(_ file: RemoteFile) throws -> URL? {
        let path = path(for: file)
        guard FileManager.default.fileExists(atPath: path.path) else { return nil }
        let actual = try MD5.hex(ofFile: path)
        guard actual == file.md5 else {
            throw DataError(.checksum, file: path.path,
                            "MD5 is \(actual), expected \(file.md5); delete it to download again, or fetch it from \(file.url.absoluteString)")
        }
        return path
    }

    /// The verified local copy of `file`, downloading it first when absent.
    public func fetch(_ file: RemoteFile, using downloader: some Downloader = URLSessionDownloader()) throws -> URL {
        if let path = try cached(file) { return path }
        let destination = path(for: file)
        let help = "download \(file.url.absoluteString) (MD5 \(file.md5)) and put it at \(destination.path)"
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(.io, file: directory.path, "cannot create the cache directory (\(FileIO.reason(error))); \(help)")
        }
        let temporary = FileIO.temporarySibling(of: destination)
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try downloader.download(file.url, to: temporary)
        } catch {
            throw DataError(.download, file: file.url.absoluteString, "download failed (\(reason(error))); \(help)")
        }
        let actual = try MD5.hex(ofFile: temporary)
        guard actual == file.md5 else {
            throw DataError(.checksum, file: file.url.absoluteString, "downloaded file has MD5 \(actual), expected \(file.md5); \(help)")
        }
        try FileIO.moveIntoPlace(temporary, destination)
        return destination
    }

    private func reason(_ error: any Error) -> String {
        (error as? DataError)?.message ?? FileIO.reason(error)
    }

    private static func expand(_ path: String) -> String {
        (path as NSString).expandingTildeInPath
    }
}
