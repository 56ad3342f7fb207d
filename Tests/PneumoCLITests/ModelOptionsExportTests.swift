import Foundation
import Models
import ONNX
import Testing
import TestSupport
import Train
@testable import pneumo

/// A checkpoint's model options reach the export: the ONNX graph is the model with its options (the
/// initializers have its shapes) and `pneumo.model` in the metadata carries them.
@Suite struct ModelOptionsExportTests {
    @Test func exportKeepsTheCheckpointsOptions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pneumo-cli-options-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (checkpoint, onnx) = (dir.appendingPathComponent("m.safetensors"), dir.appendingPathComponent("m.onnx"))
        let descriptor = ModelDescriptor(model: "pneumonet", inputSize: 28, channels: 1,
                                         options: ModelOptions(widths: [8, 16, 24], blocks: 2))
        let model = try descriptor.graph(seed: 2)
        try Checkpoint(descriptor: descriptor, parameters: model.parameters).write(to: checkpoint)

        try ExportCommand.parse(["--checkpoint", checkpoint.path, "--out", onnx.path]).run()
        let exported = try ONNXModel(contentsOf: onnx)
        let stored = try JSONDecoder().decode(ModelDescriptor.self, from: Data(try #require(exported.metadata["pneumo.model"]).utf8))
        #expect(stored == descriptor)
        #expect(exported.parameters["layer2.2.conv2.weight"]?.shape == [24, 24, 1, 1])
        #expect(exported.parameters["layer2.2.conv2.weight"]?.scalars == model.parameters["layer2.2.conv2.weight"]?.scalars)
    }
}
