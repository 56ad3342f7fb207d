import Testing
@testable import Models
import NN

/// The family by name: structure, options and the exact error for each bad setting.
@Suite struct ModelZooTests {
    /// At 28 px, the smallest input (64 px is covered by ReferenceCountTests).
    @Test(arguments: ModelZoo.names)
    func everyMemberBuildsAndHasTheCommonHead(_ name: String) throws {
        #expect(!(try ModelZoo.entry(name).summary.isEmpty))
        let c = ModelZoo.defaultChannels(name)
        let m = try ModelGraph(try ModelZoo.layer(name), inputShape: [2, c, 28, 28])
        #expect(m.graph[m.graph.outputs[0]].shape == [2, 2])
        let head = name == "mobilenetv2" ? "classifier.1" : "fc.1"
        #expect(m.parameters["\(head).weight"]?.shape.first == 2)
        #expect(m.graph.nodes.contains { if case .dropout = $0.op { true } else { false } })
    }

    @Test func standardVariantIsResNet18Exactly() throws {
        let a = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 28, 28], seed: 7)
        let b = try ModelGraph(try ResNet18Variant(inChannels: 1, width: 0.25, convolution: .standard), inputShape: [1, 1, 28, 28], seed: 7)
        #expect(a.parameters.names == b.parameters.names)
        for name in a.parameters.names { #expect(a.parameters[name]!.scalars == b.parameters[name]!.scalars, "\(name)") }
        #expect(a.graph.nodes.map(\.op) == b.graph.nodes.map(\.op))
    }

    @Test func variantsFactorizeTheBlockConvolutions() throws {
        let dws = try ModelGraph(try ModelZoo.layer("resnet18-dws"), inputShape: [1, 3, 28, 28])
        #expect(dws.parameters["layer2.0.conv1.0.weight"]?.shape == [64, 1, 3, 3])
        #expect(dws.parameters["layer2.0.conv1.1.weight"]?.shape == [128, 64, 1, 1])
        #expect(dws.parameters["conv1.weight"]?.shape == [64, 3, 7, 7])  // the stem stays dense
        let grouped = try ModelGraph(try ModelZoo.layer("resnet18-grouped", options: ModelOptions(groups: 8)), inputShape: [1, 3, 28, 28])
        #expect(grouped.parameters["layer3.1.conv2.weight"]?.shape == [256, 32, 3, 3])
        #expect(grouped.parameters["layer3.0.downsample.0.weight"]?.shape == [256, 128, 1, 1])
        let lowRank = try ModelGraph(try ModelZoo.layer("resnet18-lowrank", options: ModelOptions(rank: 16)), inputShape: [1, 3, 28, 28])
        #expect(lowRank.parameters["layer4.1.conv1.0.weight"]?.shape == [16, 512, 3, 3])
        #expect(lowRank.parameters["layer4.1.conv1.1.weight"]?.shape == [512, 16, 1, 1])
        // The rank never exceeds the weight matrix's: min(r, out, 9·in).
        #expect(BlockConvolution.effectiveRank(100, inChannels: 8, outChannels: 16) == 16)
        #expect(BlockConvolution.effectiveRank(100, inChannels: 1, outChannels: 16) == 9)
    }

    @Test func pneumoNetKeepsTotalStrideEight() throws {
        let net = try PneumoNet()
        #expect(net.totalStride == 8)
        #expect(net.widths == [16, 32, 64, 128])
        for (size, map) in [(28, 4), (64, 8)] {
            let m = try ModelGraph(net, inputShape: [1, 1, size, size])
            let pooled = try #require(m.graph.nodes.first { if case .globalAvgPool = $0.op { true } else { false } })
            let input = m.graph[pooled.inputs[0]].shape
            #expect(input == [1, 128, map, map])
        }
        #expect(try PneumoNet(width: 0.5).widths == [8, 16, 32, 64])
        // Well inside the SLA's 0.4 GFLOPs at the largest supported input.
        let m = try ModelGraph(net, inputShape: [1, 1, 64, 64])
        #expect(2 * (try GraphCost.forwardMACs(m.graph, inputs: ["image": [1, 1, 64, 64]])) < 40_000_000)
    }

    @Test func mobileNetV2WidthAndExpansion() throws {
        #expect(makeDivisible(32 * 0.5) == 16)
        #expect(makeDivisible(24 * 0.35) == 8)
        #expect(makeDivisible(1280 * 1.4) == 1792)
        let m = try ModelGraph(try MobileNetV2(width: 0.5, expansion: 4), inputShape: [1, 3, 32, 32])
        #expect(m.parameters["features.2.conv.0.0.weight"]?.shape == [32, 8, 1, 1])  // 8 · 4 = 32 hidden
        #expect(m.parameters["features.1.conv.0.0.weight"]?.shape == [16, 1, 3, 3])  // t = 1: depthwise first
        #expect(m.parameters["features.18.0.weight"]?.shape == [1280, 160, 1, 1])
        #expect(m.parameters["classifier.1.weight"]?.shape == [2, 1280])
    }

    @Test func existingCallersStillWork() throws {
        // `pneumo bench train` calls layer(_:channels:) without options.
        let m = try ModelGraph(try ModelZoo.layer("resnet18", channels: 1), inputShape: [1, 1, 28, 28])
        #expect(m.parameters["conv1.weight"]?.shape == [64, 1, 7, 7])
        #expect(ModelZoo.defaultChannels("pneumonet") == 1)
        #expect(ModelZoo.defaultChannels("baseline") == 3)
    }

    @Test(arguments: [
        ("resnet1000", ModelOptions(), EngineError.invalid("model", "unknown model 'resnet1000'; known: baseline, resnet18, resnet18-grouped, resnet18-dws, resnet18-lowrank, mobilenetv2, pneumonet")),
        ("resnet18", ModelOptions(rank: 4), EngineError.invalid("model", "option 'rank' does not apply to resnet18; it reads dropout, upsample, width")),
        ("pneumonet", ModelOptions(expansion: 2), EngineError.invalid("model", "option 'expansion' does not apply to pneumonet; it reads blocks, dropout, width, widths")),
        ("resnet18-grouped", ModelOptions(groups: 3), EngineError.invalid("resnet18-grouped", "groups 3 must divide every stage width [64, 128, 256, 512]")),
        ("resnet18-lowrank", ModelOptions(rank: 0), EngineError.invalid("resnet18-lowrank", "rank must be positive, got 0")),
        ("mobilenetv2", ModelOptions(width: 0), EngineError.invalid("mobilenetv2", "width must be positive, got 0.0")),
        ("mobilenetv2", ModelOptions(expansion: -1), EngineError.invalid("mobilenetv2", "expansion must be positive, got -1.0")),
        ("pneumonet", ModelOptions(widths: [16]), EngineError.invalid("pneumonet", "widths must list 2 to 6 positive channel counts (stem, then one per stage), got [16]")),
        ("pneumonet", ModelOptions(blocks: -1), EngineError.invalid("pneumonet", "blocks must be non-negative, got -1")),
        ("resnet18", ModelOptions(dropout: 1), EngineError.invalid("resnet18", "dropout must be in [0, 1), got 1.0")),
    ])
    func badSettingsAreRejectedAtConstruction(_ name: String, _ options: ModelOptions, _ error: EngineError) {
        #expect(throws: error) { _ = try ModelZoo.layer(name, options: options) }
    }
}
