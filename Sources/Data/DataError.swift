/// Errors from reading, fetching and preparing data sets. Each names the file and, where there is one, the
/// archive member or array, because a bad byte in a 300 MB archive is only fixable when the message says
/// where it is.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file could not be opened, read or written.
        case io
        /// The bytes are not the format they claim (bad magic, unparsable header, broken zip structure).
        case format
        /// The file ends before the data it declares.
        case truncated
        /// The structure parses but the content is inconsistent (CRC mismatch, bad deflate stream, length
        /// that disagrees with the shape).
        case corrupt
        /// A valid file that uses a feature this reader does not implement (dtype, compression method).
        case unsupported
        /// Arrays that disagree with each other or with the task (image/label counts, label range).
        case mismatch
        /// A member, split or file that was asked for and is not there.
        case missing
        /// A file whose MD5 is not the published one.
        case checksum
        /// A download that failed.
        case download
        /// A caller's argument out of range.
        case invalidArgument
    }

    public let kind: Kind
    /// The file (path or URL) the error is about.
    public let file: String
    /// The archive member or array name, when the error is about one.
    public let item: String?
    public let message: String

    public init(_ kind: Kind, file: String, item: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.item = item
        self.message = message
    }

    public var description: String {
        if let item { return "\(file): '\(item)': \(message)" }
        return "\(file): \(message)"
    }

    /// The same error attributed to `item` inside `file`, for errors raised by a parser that only saw bytes.
    func located(file: String, item: String?) -> DataError {
        DataError(kind, file: file, item: item ?? self.item, message)
    }
}
