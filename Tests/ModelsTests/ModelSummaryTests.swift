import Foundation
import Testing
@testable import Models
import NN

/// `ModelSummary`, the library call behind `pneumo summary`.
@Suite struct ModelSummaryTests {
    @Test func rowsAddUpToTheTotals() throws {
        let s = try ModelSummary(try ModelZoo.layer("resnet18"), architecture: "resnet18", channels: 3, inputSize: 64)
        #expect(s.parameters == 11_177_538)
        #expect(s.buffers == 9_600)
        #expect(s.macs == 148_046_848)
        #expect(s.layers.reduce(0) { $0 + $1.parameters } == s.parameters)
        #expect(s.layers.reduce(0) { $0 + $1.macs } == s.macs)
        #expect(s.inputShape == [1, 3, 64, 64])
        #expect(s.modelSizeMB == Double(11_177_538 * 4) / 1_048_576)
        #expect(s.gflops == 2 * 148_046_848 / 1e9)
        // The names every JSON uses: the spec's GFLOPs are the MACs (1 MAC = 1 FLOP), FLOPs count 2 per MAC.
        #expect(s.macsPerSample == 148_046_848 && s.flopsPerSample == 2 * 148_046_848 && s.gflopsPerSample == 148_046_848 / 1e9)
        #expect(s.table().contains("GFLOPs per sample: 0.1480 (spec's convention: 1 MAC = 1 FLOP, as thop counts); 0.2961 at 2 FLOPs per MAC"))

        let first = try #require(s.layers.first)
        #expect(first == .init(name: "conv1", kind: "conv2d", outputShape: [1, 64, 32, 32], parameters: 9_408,
                               macs: 32 * 32 * 64 * 3 * 49))
        let last = try #require(s.layers.last)
        #expect(last == .init(name: "fc.1", kind: "linear", outputShape: [1, 2], parameters: 1_026, macs: 1_024))
    }

    @Test func breakdownByLayerType() throws {
        let s = try ModelSummary(try ModelZoo.layer("resnet18"), architecture: "resnet18", channels: 3, inputSize: 64)
        // torchvision resnet18: 20 convolutions (17 3×3/7×7 + 3 downsample), 20 batch-norms, 1 linear.
        #expect(s.breakdown.convolution.count == 20)
        #expect(s.breakdown.normalization.count == 20)
        #expect(s.breakdown.linear.count == 1)
        #expect(s.breakdown.linear.parameters == 1_026)
        #expect(s.breakdown.normalization.parameters == 9_600)
        #expect(s.breakdown.convolution.parameters == 11_177_538 - 1_026 - 9_600)
        let percents = s.breakdown.convolution.percent + s.breakdown.linear.percent + s.breakdown.normalization.percent
        #expect(abs(percents - 100) < 1e-9)
        let info = s.modelInfo
        #expect(info.totalParameters == s.parameters)
        #expect(info.inputSize == 64)
        #expect(info.layerBreakdown.activationLayers.types == ["ReLU"])
        #expect(info.layerBreakdown.convLayers.totalParams == s.breakdown.convolution.parameters)

        let m = try ModelSummary(try ModelZoo.layer("mobilenetv2"), architecture: "mobilenetv2", channels: 3, inputSize: 32)
        #expect(m.modelInfo.layerBreakdown.activationLayers.types == ["ReLU6"])
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let s = try ModelSummary(try ModelZoo.layer("pneumonet"), architecture: "pneumonet", channels: 1, inputSize: 28)
        let object = try JSONSerialization.jsonObject(with: Data(try s.json().utf8)) as! [String: Any]
        for key in ["architecture", "parameters", "buffers", "macs", "gflops", "model_size_mb", "input_size_mb",
                    "forward_activations_mb", "input_shape", "layers", "breakdown", "model_info"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["parameters"] as? Int == 122_066)
        #expect(object["macs"] as? Int == 3_865_792)
        #expect(object["macs_per_sample"] as? Int == 3_865_792 && object["flops_per_sample"] as? Int == 2 * 3_865_792)
        #expect(object["gflops_per_sample"] as? Double == 3_865_792 / 1e9)
        let row = try #require((object["layers"] as? [[String: Any]])?.first)
        #expect(Set(row.keys) == ["name", "kind", "output_shape", "parameters", "macs"])
        let info = try #require(object["model_info"] as? [String: Any])
        #expect(Set(info.keys) == ["architecture", "total_parameters", "model_size_mb", "input_size", "layer_breakdown"])
        let breakdown = try #require(info["layer_breakdown"] as? [String: Any])
        #expect(Set(breakdown.keys) == ["conv_layers", "linear_layers", "norm_layers", "activation_layers", "parameter_distribution"])
        let conv = try #require(breakdown["conv_layers"] as? [String: Any])
        #expect(Set(conv.keys) == ["count", "total_params"])
        let dist = try #require(breakdown["parameter_distribution"] as? [String: Any])
        #expect(Set(dist.keys) == ["conv_percentage", "linear_percentage", "norm_percentage"])
    }

    @Test func tableShowsRowsTotalsAndBreakdown() throws {
        let s = try ModelSummary(try ModelZoo.layer("pneumonet"), architecture: "pneumonet", channels: 1, inputSize: 28)
        let table = s.table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("stem.0") && $0.contains("conv2d") && $0.contains("[-1, 16, 28, 28]") && $0.contains("144") })
        #expect(lines.contains { $0.hasPrefix("fc.1") && $0.contains("linear") && $0.contains("[-1, 2]") && $0.contains("258") })
        #expect(lines.contains("Total params: 122,066"))
        #expect(lines.contains("Trainable params: 122,066"))
        #expect(lines.contains("Conv + linear MACs per sample: 3,865,792 (3.87 M)"))
        #expect(lines.contains("GFLOPs per sample: 0.0039 (spec's convention: 1 MAC = 1 FLOP, as thop counts); 0.0077 at 2 FLOPs per MAC"))
        #expect(lines.contains { $0.hasPrefix("  convolution") && $0.contains("layers") })
        #expect(lines.contains { $0.hasPrefix("Params size (MB): 0.47") })
    }

    @Test func summaryOfATrainingGraphIsPerSample() throws {
        let m = try ModelGraph.training(try ModelZoo.layer("pneumonet"), inputShape: [32, 1, 28, 28])
        let s = try ModelSummary(graph: m.graph, parameters: m.parameters, architecture: "pneumonet")
        #expect(s.macs == 3_865_792)
        #expect(s.inputShape == [1, 1, 28, 28])
    }
}
