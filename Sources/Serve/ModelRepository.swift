import Foundation

/// The model-repository layout that ONNX model servers (Triton, KServe's runtimes) read: `DIR/NAME/VERSION/model.onnx`,
/// versions being positive integers. Each model is served at its highest version.
public enum ModelRepository {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var version: String
        public var file: URL
    }

    /// Every model of `directory`, by name; folders without a `VERSION/model.onnx` are named in the error, not skipped.
    public static func scan(_ directory: URL) throws -> [Entry] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ServeConfigurationError("--model-repository: \(directory.path) is not a folder")
        }
        let names = try fm.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        var entries: [Entry] = []
        for name in names {
            let folder = directory.appendingPathComponent(name)
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let versions = try fm.contentsOfDirectory(atPath: folder.path).compactMap { v -> Int? in
                guard let n = Int(v), n > 0, fm.fileExists(atPath: folder.appendingPathComponent("\(v)/model.onnx").path) else { return nil }
                return n
            }
            guard let newest = versions.max() else {
                throw ServeConfigurationError("--model-repository: \(folder.path) has no VERSION/model.onnx (VERSION a positive integer)")
            }
            entries.append(Entry(name: name, version: String(newest), file: folder.appendingPathComponent("\(newest)/model.onnx")))
        }
        guard !entries.isEmpty else { throw ServeConfigurationError("--model-repository: \(directory.path) holds no model folders") }
        return entries
    }
}
