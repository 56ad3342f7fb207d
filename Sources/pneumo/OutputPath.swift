import ArgumentParser
import Foundation

/// Where a command writes, checked before it starts: a file option must not name a directory, a directory option must
/// not name a file. (Writing found out late, with Foundation's own words: `pipeline --out FILE` ended in
/// "Error Domain=NSCocoaErrorDomain Code=516 …", `report --out DIR` after the page was rendered.)
enum OutputPath {
    static func file(_ path: String, _ flag: String) throws {
        if kind(path) == .directory { throw ValidationError("\(flag) is a directory: \(path)") }
    }

    static func directory(_ path: String, _ flag: String) throws {
        if kind(path) == .file { throw ValidationError("\(flag) is a file, not a directory: \(path)") }
    }

    private enum Kind { case none, file, directory }

    private static func kind(_ path: String) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .none }
        return isDirectory.boolValue ? .directory : .file
    }
}
