import ArgumentParser
import Foundation

/// Where a command writes, checked before it starts: a file option must not name a directory, a directory option must
/// not name a file, and the folder written into must be writable. (Writing found out late, with Foundation's own
/// words: `pipeline --out FILE` ended in "Error Domain=NSCocoaErrorDomain Code=516 …", `report --out DIR` after the
/// page was rendered, and an unwritable `train --out` after a whole epoch.)
enum OutputPath {
    static func file(_ path: String, _ flag: String) throws {
        switch kind(path) {
        case .directory: throw ValidationError("\(flag) is a directory: \(path)")
        // A FIFO or device is written through (opened, never replaced): it must be writable itself.
        case .special: try requireAccess(path, flag)
        // A symlink is written through to its target, wherever that is: `AtomicFile` names any problem there.
        case .link: return
        case .file, .none: try requireWritableFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path, flag)
        }
    }

    static func directory(_ path: String, _ flag: String) throws {
        if kind(path) == .file { throw ValidationError("\(flag) is a file, not a directory: \(path)") }
        try requireWritableFolder(path, flag)
    }

    private enum Kind { case none, file, directory, special, link }

    private static func kind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .none }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .link }
            return isDirectory.boolValue ? .directory : .link
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .special
        }
    }

    /// `path`, or the nearest folder above it that exists (what the command will create the rest in), must be
    /// a directory this process may create files in.
    private static func requireWritableFolder(_ path: String, _ flag: String) throws {
        var folder = URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL
        while kind(folder.path) == .none, folder.path != "/" { folder = folder.deletingLastPathComponent() }
        guard kind(folder.path) == .directory else {
            throw ValidationError("\(flag) cannot be created: \(folder.path) is not a directory (in \(path))")
        }
        try requireAccess(folder.path, flag, mode: W_OK | X_OK, of: path)
    }

    private static func requireAccess(_ path: String, _ flag: String, mode: Int32 = W_OK, of given: String? = nil) throws {
        guard access(path, mode) != 0 else { return }
        let reason = String(cString: strerror(errno))
        let target = given.map { $0 == path ? path : "\(path) (for \($0))" } ?? path
        throw ValidationError("\(flag) is not writable: \(target): \(reason)")
    }
}
