import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches a URL into a local file. A protocol so that the cache logic is tested with local files and
/// stand-ins, never the network.
public protocol Downloader: Sendable {
    /// Writes the resource at `url` to `destination` (which does not exist yet) or throws.
    func download(_ url: URL, to destination: URL) throws
}

/// `file://` URLs by copying; `http(s)://` through URLSession (Foundation's client, libcurl on Linux).
public struct URLSessionDownloader: Downloader {
    /// Seconds without data before a request is abandoned.
    public var timeout: TimeInterval

    public init(timeout: TimeInterval = 60) {
        self.timeout = timeout
    }

    public func download(_ url: URL, to destination: URL) throws {
        if url.isFileURL {
            do {
                try FileManager.default.copyItem(at: url, to: destination)
            } catch {
                throw DataError(.download, file: url.absoluteString, FileIO.reason(error))
            }
            return
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        // The completion handler must move the file before returning: URLSession deletes it afterwards.
        let task = session.downloadTask(with: url) { location, response, error in
            defer { done.signal() }
            if let error {
                outcome.set(FileIO.reason(error))
            } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                outcome.set("HTTP status \(http.statusCode)")
            } else if let location {
                do {
                    try FileManager.default.moveItem(at: location, to: destination)
                } catch {
                    outcome.set("cannot move the download into place: \(FileIO.reason(error))")
                }
            } else {
                outcome.set("no data received")
            }
        }
        task.resume()
        done.wait()
        if let failure = outcome.failure {
            throw DataError(.download, file: url.absoluteString, failure)
        }
    }

    /// The completion handler's verdict, handed across threads under a lock.
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var message: String?
        func set(_ m: String) { lock.withLock { message = m } }
        var failure: String? { lock.withLock { message } }
    }
}
