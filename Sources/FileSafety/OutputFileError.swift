import Foundation

/// An output that could not be written, naming the path the user gave (and, inside the reason, the path
/// actually touched when a symlink led elsewhere).
public struct OutputFileError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
    /// What Foundation's `localizedDescription` returns, so that callers that rewrap errors keep the words.
    public var errorDescription: String? { description }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
