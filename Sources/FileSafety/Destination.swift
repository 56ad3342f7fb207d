import Foundation

/// What a path given as an output is, after following symlinks; it decides how the path may be written.
///
/// A rename swaps whatever sat at the destination for a new regular file: right for a regular file (readers
/// see the old file or the whole new one), wrong for a FIFO or a device (`data --samples /dev/null` as root
/// replaced /dev/null itself) and for a symlink (the link was replaced instead of written through).
enum Destination: Equatable {
    /// Nothing there yet, or a regular file: write a temporary sibling of `path` and rename it over `path`.
    case replace(String)
    /// A FIFO or a character device: open it and write the bytes, as `cat > path` would.
    case writeThrough(String)

    /// Symlinks followed before giving up, as the kernel's own limit (Linux's MAXSYMLINKS is 40).
    static let maxLinks = 40

    /// Classifies `path`, following symlinks to the file they name (a dangling link's target is created).
    /// Directories, block devices and sockets are refused by name: none of them is a file one can write.
    static func of(_ path: String) throws -> Destination {
        var current = path
        for _ in 0..<maxLinks {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                if errno == ENOENT { return .replace(current) }
                throw OutputFileError(path, "cannot inspect \(current): \(errnoText())")
            }
            let via = current == path ? "" : " (the target of a symlink)"
            switch info.st_mode & S_IFMT {
            case S_IFREG: return .replace(current)
            case S_IFIFO, S_IFCHR: return .writeThrough(current)
            case S_IFLNK: current = try target(ofLink: current, given: path)
            case S_IFDIR: throw OutputFileError(path, "\(current)\(via) is a directory, not a file")
            case S_IFBLK: throw OutputFileError(path, "\(current)\(via) is a block device; refusing to write over it")
            case S_IFSOCK: throw OutputFileError(path, "\(current)\(via) is a socket, not a file")
            default: throw OutputFileError(path, "\(current)\(via) is not a regular file")
            }
        }
        throw OutputFileError(path, "more than \(maxLinks) symlinks to follow (a loop?)")
    }

    /// The path a symlink points to; a relative target is relative to the link's own directory.
    static func target(ofLink link: String, given path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(link, &buffer, buffer.count - 1)
        guard n >= 0 else { throw OutputFileError(path, "cannot read the symlink \(link): \(errnoText())") }
        let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if target.hasPrefix("/") { return target }
        let directory = (link as NSString).deletingLastPathComponent
        return directory.isEmpty ? target : directory + "/" + target
    }
}
