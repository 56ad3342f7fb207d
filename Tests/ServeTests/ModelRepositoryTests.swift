import Foundation
import Testing
import TestSupport
@testable import Serve

/// The model-repository layout ONNX servers read: DIR/NAME/VERSION/model.onnx, each model at its highest version.
@Suite("Serving: model repository") struct ModelRepositoryTests {
    func touch(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: url)
    }

    @Test func eachModelAtItsHighestVersion() throws {
        let dir = try temporaryDirectory()
        for path in ["pneumonet/1/model.onnx", "pneumonet/3/model.onnx", "pneumonet/10/notes.txt", "baseline/2/model.onnx", ".hidden/1/model.onnx"] {
            try touch(dir.appendingPathComponent(path))
        }
        let entries = try ModelRepository.scan(dir)
        #expect(entries.map(\.name) == ["baseline", "pneumonet"])
        #expect(entries.map(\.version) == ["2", "3"])
        #expect(entries[1].file.path.hasSuffix("pneumonet/3/model.onnx"))
    }

    @Test func aFolderWithoutAModelIsNamed() throws {
        let dir = try temporaryDirectory()
        try touch(dir.appendingPathComponent("empty/x/model.onnx"))
        #expect(throws: ServeConfigurationError("--model-repository: \(dir.appendingPathComponent("empty").path) has no VERSION/model.onnx (VERSION a positive integer)")) {
            try ModelRepository.scan(dir)
        }
        let missing = dir.appendingPathComponent("nothing-here")
        #expect(throws: ServeConfigurationError("--model-repository: \(missing.path) is not a folder")) { try ModelRepository.scan(missing) }
    }
}
