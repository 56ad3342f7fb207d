import HTTPTypes

/// What a request can get wrong, or the server cannot do now: each maps to one HTTP status and a message
/// that says what is wrong, sent as the protocol's `{"error": "..."}`.
public struct ServeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    /// Seconds a client should wait before retrying (sent as `Retry-After`).
    public let retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status; self.message = message; self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(message)" }

    public static func badRequest(_ message: String) -> ServeError { ServeError(.badRequest, message) }
    public static func unknownModel(_ name: String, version: String? = nil) -> ServeError {
        ServeError(.notFound, version.map { "model '\(name)' has no version '\($0)'" } ?? "no model named '\(name)'")
    }
    public static func overloaded(queued: Int, limit: Int) -> ServeError {
        ServeError(.serviceUnavailable, "the queue is full (\(queued) images waiting, at most \(limit)); retry later", retryAfter: 1)
    }
    public static func bodiesOverBudget(bytes: Int, limit: Int) -> ServeError {
        ServeError(.serviceUnavailable, "the server holds as many request bodies as it may (\(limit >> 20) MiB); this one's \(bytes) bytes must wait: retry later",
                   retryAfter: 1)
    }
    public static let shuttingDown = ServeError(.serviceUnavailable, "the server is shutting down", retryAfter: 1)
}

/// A server that cannot start as configured (no model, two models of one name, a bad repository folder).
public struct ServeConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
