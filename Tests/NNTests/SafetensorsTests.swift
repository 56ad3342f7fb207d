import Foundation
import Testing
import NN
import TestSupport

/// Round trip and hostile-input checks of the safetensors reader and writer.
@Suite struct SafetensorsTests {
    /// `name` in a fresh temporary folder, which `defer { remove(url) }` takes away with the file.
    func tempURL(_ name: String) throws -> URL { try temporaryDirectory("st").appendingPathComponent(name) }

    func remove(_ url: URL) { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }

    @Test func roundTripKeepsOrderValuesAndMetadata() throws {
        let url = try tempURL("a.safetensors")
        defer { remove(url) }
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5])
        let b = try Tensor(shape: [1], scalars: [0.25])
        try Safetensors.write([("z.weight", a), ("a.bias", b)], metadata: ["model": "resnet18"], to: url)
        let f = try Safetensors.read(url)
        #expect(f.tensors.map(\.name) == ["z.weight", "a.bias"])
        #expect(f["z.weight"]?.scalars == a.scalars && f["z.weight"]?.shape == [2, 3])
        #expect(f.metadata["model"] == "resnet18")
        // The header is padded to 8 bytes, so the data section is aligned.
        let data = try Data(contentsOf: url)
        #expect(Int(data[0]) % 8 == 0)
    }

    @Test func truncatedAndCorruptFilesAreNamedErrors() throws {
        let url = try tempURL("b.safetensors")
        defer { remove(url) }
        try Safetensors.write([("w", try Tensor(shape: [4], scalars: [1, 2, 3, 4]))], to: url)
        let whole = try Data(contentsOf: url)
        for (what, bytes) in [("truncated data", whole.prefix(whole.count - 3)), ("no header", whole.prefix(5)),
                              ("garbage", Data(repeating: 0xFF, count: 64))] {
            try bytes.write(to: url)
            #expect(throws: Safetensors.Error.self, "\(what)") { try Safetensors.read(url) }
        }
        #expect(throws: Safetensors.Error.self) { try Safetensors.read(url.deletingLastPathComponent().appendingPathComponent("missing")) }
    }

    @Test func nanValuesAreRejected() throws {
        let url = try tempURL("c.safetensors")
        defer { remove(url) }
        try Safetensors.write([("w", try Tensor(shape: [2], scalars: [1, .nan]))], to: url)
        #expect(throws: Safetensors.Error.self) { try Safetensors.read(url) }
    }
}
