import Foundation

/// Errors a user can cause: each names the op (or layer) and the shapes involved.
public struct EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable { case shape, unsupported, numeric, backend, invalidArgument }
    public let kind: Kind
    public let op: String
    public let message: String

    public init(_ kind: Kind, op: String, _ message: String) {
        self.kind = kind
        self.op = op
        self.message = message
    }

    public static func shape(_ op: String, _ message: String) -> EngineError { .init(.shape, op: op, message) }
    public static func unsupported(_ op: String, _ message: String) -> EngineError { .init(.unsupported, op: op, message) }
    public static func numeric(_ op: String, _ message: String) -> EngineError { .init(.numeric, op: op, message) }
    public static func backend(_ op: String, _ message: String) -> EngineError { .init(.backend, op: op, message) }
    public static func invalid(_ op: String, _ message: String) -> EngineError { .init(.invalidArgument, op: op, message) }

    public var description: String { "\(op): \(message)" }
}

/// Formats a shape as `[32, 64, 16, 16]` for error messages.
@inlinable public func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// A byte count in the unit that reads best, for messages: "7.5 GB", "1.1 MB", "75.3 kB", "640 B".
public func describe(bytes: Double) -> String {
    bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : bytes >= 1e6 ? String(format: "%.1f MB", bytes / 1e6)
        : bytes >= 1e3 ? String(format: "%.1f kB", bytes / 1e3) : String(format: "%.0f B", bytes)
}
