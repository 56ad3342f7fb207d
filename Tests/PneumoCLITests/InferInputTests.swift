import Testing
import Data
import GraphCore
import Foundation
@testable import pneumo
import TestSupport

/// `pneumo infer` refuses a non-finite input value, naming its file and index: a NaN pixel had come out as finite,
/// plausible logits (ReLU as max(x, 0) turns NaN into 0).
@Suite struct InferInputTests {
    @Test(arguments: [(Float.nan, [0, 0, 0, 0], "nan"), (Float.infinity, [1, 0, 3, 5], "inf"), (-Float.infinity, [1, 0, 27, 27], "-inf")])
    func refusesNonFiniteValues(_ value: Float, _ index: [Int], _ printed: String) throws {
        let dir = try temporaryDirectory("cli-infer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (model, input, output) = (dir.appendingPathComponent("m.onnx").path, dir.appendingPathComponent("x.npy").path,
                                      dir.appendingPathComponent("y.npy").path)
        try ExportCommand.parse(["--model", "pneumonet", "--input-size", "28", "--out", model, "--dynamic-batch"]).run()
        var scalars = [Float](repeating: 0.5, count: 2 * 28 * 28)
        scalars[((index[0] * 1 + index[1]) * 28 + index[2]) * 28 + index[3]] = value
        try NPYWriter.write(try Tensor(shape: [2, 1, 28, 28], scalars: scalars), to: URL(fileURLWithPath: input))
        do {
            try InferCommand.parse(["--onnx", model, "--input", input, "--output", output]).run()
            Issue.record("an input with \(value) at \(index) ran")
        } catch let e as InferInputError {
            #expect(e.description == "\(input): element \(describe(index)) is \(printed); the model's input must be finite")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        // The same file with the value made finite runs.
        scalars[((index[0] * 1 + index[1]) * 28 + index[2]) * 28 + index[3]] = 0.5
        try NPYWriter.write(try Tensor(shape: [2, 1, 28, 28], scalars: scalars), to: URL(fileURLWithPath: input))
        try InferCommand.parse(["--onnx", model, "--input", input, "--output", output]).run()
        #expect(FileManager.default.fileExists(atPath: output))
    }
}
