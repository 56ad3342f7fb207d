import Foundation
import GraphCore
import Models
import Serving
import Testing
import Train

/// A checkpoint that stores a rewritten graph (`pneumo optimize`, a fine-tuned rewrite) runs as that graph, not as the
/// zoo model its descriptor names: the runtime commands (infer, bench infer, sla, profile, analyze) load it this way.
@Suite struct RewrittenCheckpointTests {
    /// A graph of another architecture under a pneumonet descriptor: only the stored graph can use these weights.
    static func write(in dir: URL) throws -> (path: String, graph: Graph) {
        let other = try ModelDescriptor(model: "mobilenetv2", inputSize: 28, channels: 1).graph(seed: 5)
        var checkpoint = Checkpoint(descriptor: ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1), parameters: other.parameters)
        checkpoint.customGraph = other.graph
        let url = dir.appendingPathComponent("rewritten.safetensors")
        try checkpoint.write(to: url)
        return (url.path, other.graph)
    }

    @Test func loadsTheStoredGraph() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, graph) = try Self.write(in: dir)
        let loaded = try ModelSource.checkpoint(path: path, inputSize: nil).load()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(loaded.graph) == encoder.encode(graph))
        #expect(loaded.sampleShape == [1, 28, 28])
        let classifier = try Classifier(checkpoint: path)
        let p = try classifier.probabilities(randomBatch([2, 1, 28, 28], seed: 1))
        #expect(p.count == 2 && p.allSatisfy { $0.isFinite && (0...1).contains($0) })
    }

    @Test func refusesAnotherInputSize() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, _) = try Self.write(in: dir)
        let error = #expect(throws: ClassifierError.self) { try ModelSource.checkpoint(path: path, inputSize: 64).load() }
        #expect(error?.description.contains("rewritten graph built for 28 px") == true)
    }
}
