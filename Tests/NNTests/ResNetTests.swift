import Testing
@testable import Models
import NN

/// Parameter and MAC counts against torchvision (counted with forward hooks on
/// `torchvision.models.resnet18(num_classes=2)` with the spec's Dropout+Linear head; figures from the
/// models issue). Counting is exact: equality, no tolerance.
@Suite struct ResNetTests {
    @Test func resnet18HasTorchvisionParameterCount() throws {
        let m = try ModelGraph(ResNet18(), inputShape: [1, 3, 64, 64])
        #expect(m.parameters.trainableCount == 11_177_538)
        #expect(m.parameters.names.first == "conv1.weight")
        #expect(m.parameters["layer1.0.conv1.weight"]?.shape == [64, 64, 3, 3])
        #expect(m.parameters["layer2.0.downsample.0.weight"]?.shape == [128, 64, 1, 1])
        #expect(m.parameters["layer4.1.bn2.running_var"]?.shape == [512])
        #expect(m.parameters["fc.1.weight"]?.shape == [2, 512])
        #expect(m.parameters["fc.1.bias"]?.shape == [2])
    }

    /// torchvision: 0.14805 G at 64 px, 0.03424 G at 28 px, 1.81356 G for the baseline (64 → 224).
    @Test(arguments: [("resnet18", 64, 148_050_000), ("resnet18", 28, 34_240_000), ("baseline", 64, 1_813_560_000)])
    func convAndLinearMACs(model: String, size: Int, expected: Int) throws {
        let m = try ModelGraph(try ModelZoo.layer(model), inputShape: [1, 3, size, size])
        let macs = try GraphCost.forwardMACs(m.graph, inputs: ["image": [1, 3, size, size]])
        // The reference figures are rounded to 1e-5 G: our exact count must round to them.
        #expect(abs(macs - expected) <= 5_000, "\(model)@\(size): \(macs)")
    }

    @Test func baselineUpsamplesOnlyWhenNeeded() throws {
        let small = try ModelGraph(ResNet18(upsampleTo: 224), inputShape: [1, 3, 64, 64])
        #expect(small.graph.nodes.contains { if case .resizeBilinear(224, 224) = $0.op { true } else { false } })
        let native = try ModelGraph(ResNet18(upsampleTo: 224), inputShape: [1, 3, 224, 224])
        #expect(!native.graph.nodes.contains { if case .resizeBilinear = $0.op { true } else { false } })
    }

    @Test func widthMultiplierScalesStages() throws {
        #expect(ResNet18(width: 0.5).stageChannels == [32, 64, 128, 256])
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 28, 28])
        #expect(m.parameters["conv1.weight"]?.shape == [16, 1, 7, 7])
    }

    @Test func unknownModelNameIsAnError() {
        #expect(throws: EngineError.self) { try ModelZoo.layer("resnet1000") }
    }
}
