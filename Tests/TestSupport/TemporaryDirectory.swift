import Foundation

/// A fresh directory under the system temporary directory, removed by the caller. Its name says which test
/// target made it (`pneumo-DataTests-…`, from `fileID`), or `label` where given, so a leftover is traceable.
public func temporaryDirectory(_ label: String? = nil, fileID: String = #fileID) throws -> URL {
    let name = label ?? String(fileID.prefix { $0 != "/" })
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pneumo-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
