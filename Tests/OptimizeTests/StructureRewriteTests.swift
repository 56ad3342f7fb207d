import Models
import NN
@testable import Optimize
import Testing

/// Interpolation removal, parameter sharing and channel pruning: counts by arithmetic, exactness where
/// the function is unchanged by construction.
@Suite struct StructureRewriteTests {
    // MARK: interpolation removal

    @Test func removingTheResizeIsExactAtTheTargetSize() throws {
        let m = try Support.resnet(width: 0.125, size: 16, upsampleTo: 48)
        let r = try ArchitectureRewrites.removeInterpolation(m.graph, m.parameters)
        #expect(r.changes.count == 1)
        #expect(!r.graph.nodes.contains { if case .resizeBilinear = $0.op { true } else { false } })
        #expect(r.parameters.names == m.parameters.names)
        // At 48 px the resize is the identity.
        #expect(try Support.outputChange(m, r, size: 48) == 0)
        // At 16 px the network now sees 16 px features: a different function.
        #expect(try Support.outputChange(m, r) > 1e-3)
    }

    @Test func removingTheResizeLeavesTheNativeSizeMACs() throws {
        let m = try Support.resnet(width: 0.125, size: 16, upsampleTo: 48)
        let native = try ModelGraph(ResNet18(inChannels: 3, width: 0.125), inputShape: [1, 3, 16, 16])
        let r = try ArchitectureRewrites.removeInterpolation(m.graph, m.parameters)
        let after = try Support.compute(r.graph, r.parameters, size: 16)
        let before = try Support.compute(m.graph, m.parameters, size: 16)
        #expect(after.macs_per_sample == (try Support.compute(native.graph, native.parameters, size: 16)).macs_per_sample)
        #expect(after.resize_elements_per_sample == 0 && before.resize_elements_per_sample == 3 * 48 * 48)
        #expect(after.parameters == before.parameters)
        // Shapes are recomputed: the stem now sees 16 px.
        #expect(r.graph.nodes.first { $0.name == "conv1" && $0.op != .relu }?.shape == [1, 8, 8, 8])
    }

    @Test func withoutAResizeNothingChanges() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.removeInterpolation(m.graph, m.parameters)
        #expect(r.changes.isEmpty && r.graph.nodes.count == m.graph.nodes.count)
        #expect(try Support.outputChange(m, r) == 0)
    }

    // MARK: parameter sharing

    @Test func sharingTiesConv2ToConv1WhereShapesMatch() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.shareParameters(m.graph, m.parameters)
        let tied = ["layer1.0", "layer1.1", "layer2.1", "layer3.1", "layer4.1"]
        #expect(r.changes.filter { $0.detail.hasPrefix("reads") }.map(\.layer) == tied.map { $0 + ".conv2" })
        let saved = tied.reduce(0) { $0 + m.parameters[$1 + ".conv2.weight"]!.count }
        let before = try Support.compute(m.graph, m.parameters, size: 32), after = try Support.compute(r.graph, r.parameters, size: 32)
        #expect(after.parameters == before.parameters - saved)
        #expect(after.macs_per_sample == before.macs_per_sample)
        #expect(tied.allSatisfy { r.parameters[$0 + ".conv2.weight"] == nil && r.parameters[$0 + ".conv1.weight"] != nil })
        // layer2.0's conv1 (16 → 32, stride 2) and conv2 (32 → 32) differ in shape: not tied.
        #expect(r.parameters["layer2.0.conv2.weight"] != nil)
    }

    @Test func sharingIsExactWhenTheWeightsAreAlreadyEqual() throws {
        var m = try Support.resnet()
        for block in ["layer1.0", "layer1.1", "layer2.1", "layer3.1", "layer4.1"] {
            let w1 = m.parameters[block + ".conv1.weight"]!.scalars
            try Support.edit(&m.parameters, block + ".conv2.weight") { i, _ in w1[i] }
        }
        let r = try ArchitectureRewrites.shareParameters(m.graph, m.parameters)
        #expect(r.changes.allSatisfy { $0.weightError == 0 })
        #expect(try Support.outputChange(m, r) < Support.exactTolerance)
    }

    @Test func sharingWithAnExplicitTieList() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.shareParameters(m.graph, m.parameters, tying: ["layer4.1.conv1.weight": "layer4.0.conv2.weight"])
        #expect(r.changes.map(\.layer) == ["layer4.0.conv2", "layer4.1.conv1"])
        #expect(r.parameters["layer4.1.conv1.weight"] == nil)
        // The shared value is the mean of the two.
        let (w1, w2) = (m.parameters["layer4.0.conv2.weight"]!.scalars, m.parameters["layer4.1.conv1.weight"]!.scalars)
        #expect(r.parameters["layer4.0.conv2.weight"]!.scalars == zip(w1, w2).map { ($0 + $1) / 2 })
    }

    // MARK: channel pruning

    @Test func pruningFindsEachBlocksInnerChain() throws {
        let m = try Support.resnet()
        let chains = ArchitectureRewrites.pruneChains(m.graph)
        #expect(chains.map { m.graph.nodes[$0.a].name } == ["layer1.0.conv1", "layer1.1.conv1", "layer2.0.conv1", "layer2.1.conv1",
                                                             "layer3.0.conv1", "layer3.1.conv1", "layer4.0.conv1", "layer4.1.conv1"])
        #expect(chains.allSatisfy { m.graph.nodes[$0.b].name.hasSuffix(".conv2") })
    }

    @Test(arguments: [0.25, 0.5])
    func pruningCountsFollowTheArithmetic(fraction: Double) throws {
        let m = try Support.resnet()
        let before = try Support.compute(m.graph, m.parameters, size: 32)
        let macs = try Support.macs(m.graph, size: 32)
        let r = try ArchitectureRewrites.pruneChannels(m.graph, m.parameters, fraction: fraction)
        let after = try Support.compute(r.graph, r.parameters, size: 32)
        var params = before.parameters, total = before.macs_per_sample
        for chain in ArchitectureRewrites.pruneChains(m.graph) {
            let wa = m.graph[m.graph.nodes[chain.a].inputs[1]].shape, wb = m.graph[m.graph.nodes[chain.b].inputs[1]].shape
            let removed = Int(fraction * Double(wa[0]))
            params -= removed * (wa[1] * 9) + 2 * removed + wb[0] * removed * 9   // A's rows, γ and β, B's columns
            total -= macs[chain.a] / wa[0] * removed + macs[chain.b] / wb[1] * removed
        }
        #expect(after.parameters == params)
        #expect(after.macs_per_sample == total)
        #expect(r.parameters["layer3.1.bn1.running_var"]?.shape == [64 - Int(fraction * 64)])
        #expect(r.parameters.trainable.contains("layer3.1.bn1.running_var") == false)
    }

    @Test func pruningIsExactWhenTheRemovedChannelsAreDead() throws {
        var m = try Support.resnet()
        // In each chain, zero the first half of A's output channels and give them a negative batch-norm
        // output (β = −1, μ = 0): after the ReLU they are always 0, and they have the lowest L1 norm.
        for chain in ArchitectureRewrites.pruneChains(m.graph) {
            let a = m.graph.nodes[chain.a], bn = m.graph.nodes[chain.bn]
            let k = m.graph[a.inputs[1]].shape[0], per = m.graph[a.inputs[1]].shape.dropFirst().reduce(1, *)
            func name(_ id: ValueID) -> String { if case .parameter(let n) = m.graph[id].op { n } else if case .buffer(let n) = m.graph[id].op { n } else { "" } }
            try Support.edit(&m.parameters, name(a.inputs[1])) { i, v in i / per < k / 2 ? 0 : v }
            try Support.edit(&m.parameters, name(bn.inputs[2])) { i, v in i < k / 2 ? -1 : v }
            try Support.edit(&m.parameters, name(bn.inputs[3])) { i, v in i < k / 2 ? 0 : v }
        }
        let r = try ArchitectureRewrites.pruneChannels(m.graph, m.parameters, fraction: 0.5)
        #expect(r.changes.count == 16)
        // A loses only zero rows; B loses the columns that only ever read zeros.
        #expect(r.changes.filter { $0.detail.hasPrefix("output") }.allSatisfy { $0.weightError == 0 })
        #expect(try Support.outputChange(m, r) < Support.exactTolerance)
    }

    @Test func pruningFractionMustBeBelowOne() throws {
        let m = try Support.resnet()
        #expect(throws: EngineError.self) { try ArchitectureRewrites.pruneChannels(m.graph, m.parameters, fraction: 1) }
    }
}
