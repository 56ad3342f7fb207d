import Models
import NN
@testable import Optimize
import Testing

/// Grouped, depthwise-separable and low-rank rewrites of ResNet-18 (width 0.25, 32 px): parameters and
/// MACs after the rewrite are what the arithmetic says; where the weight already has the rewritten form
/// (block-diagonal, separable, full rank) the outputs agree with the original's to `Support.exactTolerance`.
@Suite struct ConvolutionRewriteTests {
    let size = 32

    /// The rewrite's candidates: every 3×3 block convolution (stem and 1×1 shortcuts excluded).
    func candidates(_ m: ModelGraph) -> [ConvSite] { m.graph.convSites().filter(ConvSelection.blockConvolutions.includes) }

    @Test func candidatesAreTheSixteenBlockConvolutions() throws {
        let m = try Support.resnet()
        let names = candidates(m).map(\.name)
        #expect(names.count == 16)
        #expect(names.first == "layer1.0.conv1" && names.last == "layer4.1.conv2")
        #expect(!names.contains("conv1") && !names.contains { $0.contains("downsample") })
    }

    // MARK: grouped

    @Test(arguments: [2, 4])
    func groupedCountsFollowTheArithmetic(groups: Int) throws {
        let m = try Support.resnet()
        let sites = candidates(m)
        let before = try Support.compute(m.graph, m.parameters, size: size)
        let macs = try Support.macs(m.graph, size: size)
        let r = try ArchitectureRewrites.groupConvolutions(m.graph, m.parameters, groups: groups)
        let after = try Support.compute(r.graph, r.parameters, size: size)
        let weights = sites.reduce(0) { $0 + $1.weightShape.reduce(1, *) }
        #expect(after.parameters == before.parameters - weights + weights / groups)
        #expect(after.macs_per_sample == before.macs_per_sample - sites.reduce(0) { $0 + macs[$1.node] * (groups - 1) / groups })
        #expect(r.layers == sites.map(\.name))
        #expect(r.parameters["layer2.0.conv1.weight"]?.shape == [32, 16 / groups, 3, 3])
        // Random weights keep 1/g of their energy.
        #expect(r.changes.allSatisfy { abs($0.weightError - (1 - 1 / Double(groups)).squareRoot()) < 0.1 })
    }

    @Test func groupedIsExactForBlockDiagonalWeights() throws {
        var m = try Support.resnet()
        let g = 2
        for s in candidates(m) {
            let (k, c) = (s.outChannels, s.inChannels)
            try Support.edit(&m.parameters, s.weightName) { i, v in
                let (o, ch) = (i / (c * 9), (i / 9) % c)
                return o / (k / g) == ch / (c / g) ? v : 0
            }
        }
        let r = try ArchitectureRewrites.groupConvolutions(m.graph, m.parameters, groups: g)
        #expect(r.changes.allSatisfy { $0.weightError < 1e-7 })
        #expect(try Support.outputChange(m, r) < Support.exactTolerance)
    }

    @Test func groupsMustBeAtLeastTwo() throws {
        let m = try Support.resnet()
        #expect(throws: EngineError.self) { try ArchitectureRewrites.groupConvolutions(m.graph, m.parameters, groups: 1) }
    }

    // MARK: depthwise-separable

    @Test func depthwiseSeparableCountsFollowTheArithmetic() throws {
        let m = try Support.resnet()
        let sites = candidates(m)
        let before = try Support.compute(m.graph, m.parameters, size: size)
        let macs = try Support.macs(m.graph, size: size)
        let shapes = try m.graph.inferShapes(inputs: ["image": [1, 3, size, size]])
        let r = try ArchitectureRewrites.depthwiseSeparable(m.graph, m.parameters)
        let after = try Support.compute(r.graph, r.parameters, size: size)
        var params = before.parameters, total = before.macs_per_sample
        for s in sites {
            let (k, c) = (s.outChannels, s.inChannels), pixels = shapes[s.node][2] * shapes[s.node][3]
            params += (c * 9 + k * c) - k * c * 9
            total += pixels * (c * 9 + k * c) - macs[s.node]
        }
        #expect(after.parameters == params)
        #expect(after.macs_per_sample == total)
        // resnet18-dws's names and shapes.
        #expect(r.parameters["layer3.0.conv1.0.weight"]?.shape == [32, 1, 3, 3])
        #expect(r.parameters["layer3.0.conv1.1.weight"]?.shape == [64, 32, 1, 1])
        #expect(r.parameters["layer3.0.conv1.weight"] == nil)
    }

    @Test func depthwiseSeparableIsExactForSeparableWeights() throws {
        var m = try Support.resnet()
        var rng = SeededRandom(seed: 5)
        for s in candidates(m) {
            // W[k, c, :, :] = a[k, c] · b[c, :]: rank 1 per input channel.
            let (k, c) = (s.outChannels, s.inChannels)
            let a = (0..<(k * c)).map { _ in rng.nextNormal() }, b = (0..<(c * 9)).map { _ in rng.nextNormal() * 0.2 }
            try Support.edit(&m.parameters, s.weightName) { i, _ in
                let (o, ch, t) = (i / (c * 9), (i / 9) % c, i % 9)
                return a[o * c + ch] * b[ch * 9 + t]
            }
            _ = k
        }
        let r = try ArchitectureRewrites.depthwiseSeparable(m.graph, m.parameters)
        #expect(r.changes.allSatisfy { $0.weightError < 1e-5 }, "\(r.changes.map(\.weightError).max() ?? 0)")
        #expect(try Support.outputChange(m, r) < Support.exactTolerance)
    }

    @Test func depthwiseSeparableKeepsTheBestRankOneSlice() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.depthwiseSeparable(m.graph, m.parameters)
        // Random 3×3 slices are far from rank 1, but the split keeps their top direction (≥ 1/9 of the energy).
        #expect(r.changes.allSatisfy { $0.weightError > 0.3 && $0.weightError < (8.0 / 9).squareRoot() + 1e-6 })
        #expect(try Support.outputChange(m, r) > 1e-2)
    }

    // MARK: low rank

    @Test func lowRankCountsFollowTheArithmetic() throws {
        let m = try Support.resnet()
        let before = try Support.compute(m.graph, m.parameters, size: size)
        let macs = try Support.macs(m.graph, size: size)
        let r = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .fixed(8))
        let after = try Support.compute(r.graph, r.parameters, size: size)
        var params = before.parameters, total = before.macs_per_sample
        for s in candidates(m) {
            let (k, n) = (s.outChannels, s.inChannels * 9)
            params += 8 * (n + k) - k * n
            total += macs[s.node] / (k * n) * 8 * (n + k) - macs[s.node]
        }
        #expect(after.parameters == params)
        #expect(after.macs_per_sample == total)
        #expect(r.parameters["layer4.1.conv2.0.weight"]?.shape == [8, 128, 3, 3])
        #expect(r.parameters["layer4.1.conv2.1.weight"]?.shape == [128, 8, 1, 1])
    }

    @Test func lowRankIsExactAtFullRank() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .fraction(1), onlyWhenSmaller: false)
        #expect(r.changes.count == 16)
        #expect(r.changes.allSatisfy { $0.weightError < 1e-6 })
        #expect(try Support.outputChange(m, r) < Support.exactTolerance)
    }

    /// One 3×3 conv 16 → 32 (bias), global pool, linear: the output is linear in the factorized weight.
    struct OneConv: Layer {
        func callAsFunction(_ x: Value) throws -> Value {
            let y = try scoped("conv", x) { try Conv2d(Conv2dConfig(16, 32, kernel: 3, padding: 1))($0) }.globalAvgPool().flatten()
            return try scoped("fc", y) { try Linear(32, 4)($0) }
        }
    }

    @Test func lowRankOutputChangeShrinksAsRankGrows() throws {
        let m = try ModelGraph(OneConv(), inputShape: [1, 16, 12, 12], seed: 4)
        var changes: [Double] = [], errors: [Double] = []
        for rank in [2, 8, 16, 24, 32] {
            let r = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .fixed(rank), onlyWhenSmaller: false)
            #expect(r.parameters["conv.0.weight"]?.shape == [rank, 16, 3, 3] && r.parameters["conv.bias"]?.shape == [32])
            changes.append(try Support.outputChange(m, r))
            errors.append(r.changes[0].weightError)
        }
        #expect(zip(errors, errors.dropFirst()).allSatisfy { $0 > $1 }, "weight error by rank: \(errors)")
        #expect(zip(changes, changes.dropFirst()).allSatisfy { $0 > $1 }, "output change by rank: \(changes)")
        #expect(changes.last! < Support.exactTolerance)   // 32 = full rank
    }

    @Test func lowRankOnResNetApproachesTheOriginalWithRank() throws {
        let m = try Support.resnet()
        var changes: [Double] = [], errors: [Double] = []
        for f in [0.125, 0.25, 0.5, 0.75, 1.0] {
            let r = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .fraction(f), onlyWhenSmaller: false)
            changes.append(try Support.outputChange(m, r))
            errors.append(r.changes.map(\.weightError).reduce(0, +) / Double(r.changes.count))
        }
        #expect(zip(errors, errors.dropFirst()).allSatisfy { $0 > $1 }, "mean weight error by rank: \(errors)")
        // Random weights have flat spectra: through 16 factorized layers the logits stay far off until
        // most of the rank is back (measured: 0.91, 0.91, 0.83, 0.73, 6e-7).
        #expect(changes[3] < changes[0] && changes[2] < changes[1], "output change by rank: \(changes)")
        #expect(changes.last! < Support.exactTolerance)
    }

    @Test func lowRankByEnergyKeepsAtLeastThatEnergy() throws {
        let m = try Support.resnet()
        let r = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .energy(0.9), onlyWhenSmaller: false)
        #expect(r.changes.allSatisfy { 1 - $0.weightError * $0.weightError >= 0.9 - 1e-9 })
        // onlyWhenSmaller drops the layers whose 90%-energy rank saves nothing.
        let smaller = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .energy(0.9))
        #expect(smaller.changes.count <= r.changes.count)
    }
}

/// A rewritten ResNet-18 has exactly the parameter names and shapes of the ModelZoo variant trained from
/// scratch, so it can be fine-tuned (or loaded) as that variant.
@Suite struct RewriteMatchesVariantTests {
    func stateDict(_ graph: Graph, _ parameters: ParameterStore) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: parameters.names.map { ($0, parameters[$0]!.shape) })
    }

    func variant(_ name: String, _ options: ModelOptions) throws -> [String: [Int]] {
        let m = try ModelGraph(try ModelZoo.layer(name, channels: 3, options: options), inputShape: [1, 3, 32, 32])
        return stateDict(m.graph, m.parameters)
    }

    @Test func rewritesProduceTheVariantsStateDicts() throws {
        let m = try ModelGraph(ResNet18(inChannels: 3, width: 0.25), inputShape: [1, 3, 32, 32])
        let grouped = try ArchitectureRewrites.groupConvolutions(m.graph, m.parameters, groups: 4)
        #expect(stateDict(grouped.graph, grouped.parameters) == (try variant("resnet18-grouped", ModelOptions(width: 0.25, groups: 4))))
        let dws = try ArchitectureRewrites.depthwiseSeparable(m.graph, m.parameters)
        #expect(stateDict(dws.graph, dws.parameters) == (try variant("resnet18-dws", ModelOptions(width: 0.25))))
        let lowRank = try ArchitectureRewrites.lowRank(m.graph, m.parameters, rank: .fixed(32), onlyWhenSmaller: false)
        #expect(stateDict(lowRank.graph, lowRank.parameters) == (try variant("resnet18-lowrank", ModelOptions(width: 0.25, rank: 32))))
    }
}
