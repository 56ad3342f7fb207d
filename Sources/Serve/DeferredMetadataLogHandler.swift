import Logging

/// swift-log's `StreamLogHandler` on standard error, with its metadata formatted only for the lines it writes.
/// The stream handler formats its metadata into a string whenever the metadata changes, and Hummingbird sets a
/// request id on every request's logger: a string made per request that, below debug level, no line prints
/// (`bench/README.md`, "Where a request's CPU goes").
public struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    public init(label: String) { stream = .standardError(label: label) }

    /// Writing to `stream` instead of standard error.
    public init(label: String, stream: any TextOutputStream & Sendable) {
        self.stream = StreamLogHandler(label: label, stream: stream)
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit } }
        stream.log(event: event)
    }
}
