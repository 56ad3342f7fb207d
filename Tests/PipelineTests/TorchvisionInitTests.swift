import Foundation
import Models
import NN
import Testing
import TestSupport
@testable import Train

/// torchvision's own ResNet-18 (`resnet18(weights=None)`, random initialization) saved by `safetensors.torch.save_file`
/// starts our ResNet-18's training: every tensor but the 1000-class head loads, with the values PyTorch holds, and a
/// training epoch runs from them. Skips without a Python that has torch, torchvision and safetensors
/// ($PNEUMO_TORCH_PYTHON, a python3 on the PATH, or /work/venv-torch).
@Suite(.enabled(if: TorchvisionPeer.python != nil, "needs a Python with torch, torchvision and safetensors ($PNEUMO_TORCH_PYTHON)"))
struct TorchvisionInitTests {
    @Test func torchvisionResNet18StartsTraining() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("resnet18.safetensors")
        // Prints each tensor's name, dtype and float64 sum, for comparison with what we loaded.
        let script = """
            import sys, json, torch, torchvision
            from safetensors.torch import save_file
            torch.manual_seed(0)
            sd = torchvision.models.resnet18(weights=None).state_dict()
            save_file(sd, sys.argv[1])
            print(json.dumps({k: [str(v.dtype), v.double().sum().item()] for k, v in sd.items()}))
            """
        let (status, output) = try PythonPeers.run(TorchvisionPeer.python!, ["-c", script, url.path])
        try #require(status == 0, "torchvision failed:\n\(output)")
        let line = try #require(output.split(separator: "\n").last)
        let torch = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [Any]])

        let descriptor = ModelDescriptor(model: "resnet18", inputSize: 28, channels: 3)
        var parameters = try descriptor.graph(seed: 1).parameters
        let report = try InitialWeights(file: url).apply(to: &parameters)
        #expect(report.loaded == parameters.names.count - 2 && report.model_tensors == 102)
        #expect(report.head_skipped == ["fc.weight as fc.1.weight: the file's [1000, 512], the model's [2, 512]",
                                        "fc.bias as fc.1.bias: the file's [1000], the model's [2]"])
        #expect(report.missing.isEmpty && report.unexpected.isEmpty && report.shape_mismatches.isEmpty && report.ignored == 20)
        #expect(torch.values.filter { $0[0] as? String == "torch.int64" }.count == 20, "num_batches_tracked are I64")
        for name in parameters.names where !name.hasPrefix("fc.") {
            let sum = parameters[name]!.scalars.reduce(0.0) { $0 + Double($1) }
            let theirs = try #require(torch[name]?[1] as? Double, "\(name) is not in torchvision's state dict")
            #expect(abs(sum - theirs) <= 1e-9 * Double(parameters[name]!.count) + 1e-6 * abs(theirs), "\(name): \(sum) vs torch's \(theirs)")
        }

        let (summary, log) = try InitialWeightsTests.trainOneEpoch(from: url, into: dir.appendingPathComponent("run"), descriptor: descriptor)
        #expect(summary.epochs_run == 1 && summary.history[0].train_loss.isFinite)
        #expect(log.first == "--init \(url.path): loaded 100 of the model's 102 tensors (20 counters or optimizer tensors ignored)")
    }
}

enum TorchvisionPeer {
    static let python = PythonPeers.find(importing: ["torch", "torchvision", "safetensors"])
}
