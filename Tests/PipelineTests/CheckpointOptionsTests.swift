import Foundation
import GraphCore
import Models
import NN
import Testing
import TestSupport
@testable import Train

/// Every registered model, with each option it reads set to a value other than its default, survives a
/// checkpoint: build (seed 1) → write → read (which rebuilds from the stored descriptor) → the same
/// descriptor, graph, parameter names and shapes, and the same logits. Old checkpoints, which stored no
/// options, still load with the defaults.
@Suite("Checkpoint model options")
struct CheckpointOptionsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var descriptor: ModelDescriptor
        var testDescription: String { descriptor.modelDescription }
    }

    /// A value other than every member's default for each option.
    static func nonDefault(_ name: ModelOptions.Name) -> ModelOptions {
        switch name {
        case .width: ModelOptions(width: 0.25)
        case .expansion: ModelOptions(expansion: 3)
        case .groups: ModelOptions(groups: 2)
        case .rank: ModelOptions(rank: 8)
        case .dropout: ModelOptions(dropout: 0.3)
        case .widths: ModelOptions(widths: [8, 16, 24])
        case .blocks: ModelOptions(blocks: 2)
        case .upsample: ModelOptions(upsample: 32)
        }
    }

    /// One case per (member, option it reads); width 0.125 beside the option under test keeps them small.
    static let cases: [Case] = ModelZoo.entries.flatMap { entry in
        entry.reads.map { name in
            let small = entry.reads.contains(.width) && name != .width ? ModelOptions(width: 0.125) : ModelOptions()
            let options = nonDefault(name).filled(from: small)
            return Case(descriptor: ModelDescriptor(model: entry.name, inputSize: 28, channels: entry.defaultChannels, options: options))
        }
    }

    /// The descriptor is stored with its keys sorted, so that the same model and weights write the same bytes in every
    /// process (a dictionary's order changes from one process to the next: two pipeline runs on the same data wrote
    /// checkpoints that differed only there).
    @Test func theDescriptorIsStoredWithSortedKeys() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let d = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1, options: ModelOptions(dropout: 0.3, widths: [8, 16, 24]))
        try Checkpoint(descriptor: d, parameters: try d.graph(seed: 1).parameters).write(to: url)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try Safetensors.read(url).metadata["pneumo.model"] == String(decoding: try encoder.encode(d), as: UTF8.self))
    }

    @Test(arguments: cases)
    func nonDefaultOptionRoundTrips(_ c: Case) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let built = try c.descriptor.graph(seed: 1)
        try Checkpoint(descriptor: c.descriptor, parameters: built.parameters).write(to: url)

        let read = try Checkpoint.read(url)
        #expect(read.descriptor == c.descriptor)
        let rebuilt = try read.descriptor.graph()
        #expect(structure(rebuilt.graph, read.parameters) == structure(built.graph, built.parameters), "the graph or parameters differ")
        // The option changed the model (dropout only changes the graph's dropout op).
        let plain = try ModelDescriptor(model: c.descriptor.model, inputSize: 28, channels: c.descriptor.channels).graph()
        #expect(structure(plain.graph, plain.parameters) != structure(built.graph, built.parameters), "the option changed nothing")

        let image = try Tensor(shape: c.descriptor.inputShape(batch: 2),
                               scalars: (0..<(2 * c.descriptor.channels * 28 * 28)).map { Float($0 % 29) / 29 })
        #expect(try logits(built.graph, built.parameters, image).scalars == logits(rebuilt.graph, read.parameters, image).scalars)
    }

    /// A checkpoint written before options were stored: `pneumo.model` without `options`.
    @Test func checkpointWithoutOptionsLoadsTheDefaults() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("old.safetensors")
        let model = try ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1).graph(seed: 3)
        try Safetensors.write(model.parameters.names.map { ($0, model.parameters[$0]!) },
                              metadata: ["pneumo.model": #"{"model":"pneumonet","input_size":28,"channels":1,"classes":2}"#], to: url)
        let read = try Checkpoint.read(url)
        #expect(read.descriptor == ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1))
        #expect(read.descriptor.options == ModelOptions())
        #expect(read.parameters.names == model.parameters.names)
        // And a default model is still written that way: no `options` key.
        let json = String(decoding: try JSONEncoder().encode(read.descriptor), as: UTF8.self)
        #expect(!json.contains("options"))
    }

    @Test(arguments: [
        (#"{"model":"pneumonet","input_size":28,"channels":1,"classes":2,"options":{"width":"wide"}}"#,
         "not a Pneumo checkpoint: metadata 'pneumo.model' is missing or invalid (options.width: Expected to decode Double but found a string instead.)"),
        (#"{"model":"pneumonet","input_size":28,"channels":1,"classes":2,"options":{"rank":4}}"#,
         "metadata 'pneumo.model' describes a model that cannot be built: model: option 'rank' does not apply to pneumonet; it reads blocks, dropout, width, widths"),
        (#"{"model":"pneumonet","input_size":28,"channels":1,"classes":2,"options":{"widths":[8]}}"#,
         "metadata 'pneumo.model' describes a model that cannot be built: pneumonet: widths must list 2 to 6 positive channel counts (stem, then one per stage), got [8]"),
    ])
    func badStoredOptionsNameTheFileAndOption(_ json: String, _ message: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.safetensors")
        try Safetensors.write([], metadata: ["pneumo.model": json], to: url)
        #expect(throws: Safetensors.Error(path: url.path, message: message)) { try Checkpoint.read(url) }
    }

    /// The ops in order, then each parameter's name and shape.
    private func structure(_ graph: Graph, _ parameters: ParameterStore) -> [String] {
        graph.nodes.map { "\($0.op)" } + parameters.names.map { "\($0) \(parameters[$0]!.shape)" }
    }

    private func logits(_ graph: Graph, _ parameters: ParameterStore, _ image: Tensor) throws -> Tensor {
        var parameters = parameters
        var rng = SeededRandom(seed: 0)
        let pass = try Executor(graph: graph, backend: testBackend).forward(feeds: ["image": image], parameters: &parameters,
                                                                              mode: .inference, rng: &rng)
        return try #require(pass[graph.outputs[0]])
    }
}
