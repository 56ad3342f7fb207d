import GraphCore
import Foundation
import Models
import Optimize
import Profile
import Runtime

/// Analysis checkpoint 1 of the spec: one function per technique. Each estimate follows the spec's hint
/// for `analyze_<technique>_potential` (constants quoted in `estimate_basis`), with "conv coverage" read
/// from the measured time by operation; each measurement applies the matching `ArchitectureRewrites`.
extension AnalysisContext {
    func interpolationRemoval() throws -> TechniqueAnalysis {
        let resizes = graph.nodes.indices.filter { i in
            if case .resizeBilinear = graph.nodes[i].op { return shapes[graph.nodes[i].inputs[0].index] != shapes[i] }
            return false
        }
        let names = resizes.map { graph.nodes[$0].name.isEmpty ? "resize_bilinear" : graph.nodes[$0].name }
        let basis = "factor = (target/input)²; MACs −(1 − 1/factor); Amdahl: scalable = conv coverage × 0.6, "
            + "speedup = 1/((1 − scalable) + scalable/factor); activation memory ÷ factor"
        guard let first = resizes.first else {
            return TechniqueAnalysis(
                name: "interpolation_removal", candidate_layers: 0, candidates: [], needs_retraining: false,
                sensitivity_risk: "none: the model already runs at its input size",
                estimated: Estimate(params_reduction: 0, macs_reduction: 0, speedup: 1, memory_change: 0, throughput_change: 0),
                measured: nil, estimate_basis: basis, measurement: "no bilinear resize in the graph: nothing to remove", details: [:])
        }
        let (inShape, outShape) = (shapes[graph.nodes[first].inputs[0].index], shapes[first])
        let factor = Double(outShape[2] * outShape[3]) / Double(inShape[2] * inShape[3])
        let scalable = convShare * 0.6
        let speedup = 1 / ((1 - scalable) + scalable / factor)
        let estimate = Estimate(params_reduction: 0, macs_reduction: 1 - 1 / factor, speedup: speedup,
                                memory_change: -Double(base.arenaBytes) / Double(base.plannedBytes) * (1 - 1 / factor),
                                throughput_change: speedup - 1)
        let rewritten = try ArchitectureRewrites.removeInterpolation(graph, parameters)
        var (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        let atInputSize = measurement.max_output_change ?? .nan
        // At the target size the resize is the identity: the rewrite must not change the output there.
        var rng = SeededRandom(seed: options.seed &+ 1)
        let native = Tensor.randomNormal([2, sampleShape[0], outShape[2], outShape[3]], using: &rng)
        measurement.max_output_change = Measurer.outputChange(try measurer.logits(rewritten.graph, rewritten.parameters, native),
                                                              reference: try measurer.logits(graph, parameters, native))
        return TechniqueAnalysis(
            name: "interpolation_removal", candidate_layers: resizes.count, candidates: names, needs_retraining: true,
            sensitivity_risk: "medium: features at \(inShape[2]) px instead of \(outShape[2]) px; fine-tune at the native size",
            estimated: estimate, measured: measurement, estimate_basis: basis,
            measurement: "resize removed, model run at \(inShape[2]) px; output change checked at the native \(outShape[2]) px "
                + "(identity there); at \(inShape[2]) px the function changes (details)",
            details: ["interpolation_factor": factor, "output_change_at_input_size": atInputSize,
                      "resize_time_share": share[OpKind.resize.rawValue] ?? 0].merging(batchMemory(m)) { a, _ in a })
    }

    func groupedConvolutions() throws -> TechniqueAnalysis {
        let g = options.groups
        let sites = graph.convSites().filter {
            ConvSelection.blockConvolutions.includes($0) && $0.inChannels % g == 0 && $0.outChannels % g == 0
        }
        let candidateParams = sites.reduce(0) { $0 + $1.weightShape.reduce(1, *) }
        let candidateMACs = sites.reduce(0) { $0 + macs($1.node) }
        let keep = 1 / Double(g)
        let coverage = convShare * fraction(Double(candidateMACs), of: convMACs)
        let speedup = 1 / (1 - (1 - keep) * coverage * 0.7)
        let saved = Double(candidateParams) * (1 - keep)
        let estimate = Estimate(params_reduction: fraction(saved, of: base.parameters),
                                macs_reduction: fraction(Double(candidateMACs) * (1 - keep), of: base.macs), speedup: speedup,
                                memory_change: memoryChange(savingParameters: saved), throughput_change: speedup - 1)
        let rewritten = try ArchitectureRewrites.groupConvolutions(graph, parameters, groups: g)
        let (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        return TechniqueAnalysis(
            name: "grouped_convolutions", candidate_layers: sites.count, candidates: sites.map(\.name), needs_retraining: true,
            sensitivity_risk: "medium: each 3×3 conv loses its cross-group weights (\(Int((1 - keep) * 100))%); recoverable by fine-tuning",
            estimated: estimate, measured: measurement,
            estimate_basis: "3×3 convs with groups 1 and channels divisible by \(g): params and MACs ÷ \(g); "
                + "speedup = 1/(1 − reduction × conv coverage × 0.7 hardware efficiency)",
            measurement: "block-diagonal part of each weight kept (groups \(g)), plan compiled and timed",
            details: ["groups": Double(g)].merging(keptEnergy(rewritten.changes)) { a, _ in a }.merging(batchMemory(m)) { a, _ in a })
    }

    func depthwiseSeparable() throws -> TechniqueAnalysis {
        let sites = graph.convSites().filter(ConvSelection.blockConvolutions.includes)
        var savedParams = 0.0, savedMACs = 0.0
        for s in sites {
            let (k, c, taps) = (s.outChannels, s.inChannels, s.kernel.h * s.kernel.w)
            savedParams += Double(k * c * taps - (c * taps + k * c))
            savedMACs += Double(pixels(s.node) * (k * c * taps - (c * taps + k * c)))
        }
        let theoretical = 1 / (1 - convShare * fraction(savedMACs, of: convMACs))
        let speedup = theoretical * 0.6
        let estimate = Estimate(params_reduction: fraction(savedParams, of: base.parameters), macs_reduction: fraction(savedMACs, of: base.macs),
                                speedup: speedup, memory_change: memoryChange(savingParameters: savedParams), throughput_change: speedup - 1)
        let rewritten = try ArchitectureRewrites.depthwiseSeparable(graph, parameters)
        let (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        return TechniqueAnalysis(
            name: "depthwise_separable", candidate_layers: sites.count, candidates: sites.map(\.name), needs_retraining: true,
            sensitivity_risk: "high: each 3×3 conv becomes rank 1 per input channel; needs retraining",
            estimated: estimate, measured: measurement,
            estimate_basis: "3×3 convs with ≥16 input channels: C·k² + C·K params, pixels·(C·k² + C·K) MACs; "
                + "speedup = theoretical (Amdahl over conv time) × 0.6 memory-access penalty",
            measurement: "depthwise + pointwise from the best per-input-channel rank-1 split of each weight, plan compiled and timed",
            details: ["theoretical_speedup": theoretical].merging(keptEnergy(rewritten.changes)) { a, _ in a }
                .merging(batchMemory(m)) { a, _ in a })
    }

    func invertedResiduals() throws -> TechniqueAnalysis {
        // The spec's candidates: modules holding three or more convolutions (ResNet blocks with a projection shortcut).
        var convsPerBlock: [String: Int] = [:]
        for node in graph.nodes {
            guard case .conv2d = node.op else { continue }
            let parts = node.name.split(separator: ".")
            if parts.count >= 3 { convsPerBlock[parts.prefix(2).joined(separator: "."), default: 0] += 1 }
        }
        let blocks = convsPerBlock.filter { $0.value >= 3 }.keys.sorted()
        let coverageFactor = min(1, Double(blocks.count) / 8)
        let speedup = 1 + 0.6 * convShare * coverageFactor * 2.5
        let estimate = Estimate(params_reduction: nil, macs_reduction: 0.6 * coverageFactor, speedup: speedup, memory_change: nil,
                                throughput_change: speedup - 1)
        // Measured: MobileNetV2 (inverted residuals with linear bottlenecks) on the same input, with the same
        // upsampling in front when the model has one.
        let classes = shapes[graph.outputs[0].index].last ?? 2
        let inputShape = [1] + sampleShape
        var mobile = try ModelGraph(try ModelZoo.layer("mobilenetv2", channels: sampleShape[0], classes: classes), inputShape: inputShape,
                                    seed: options.seed)
        mobile.graph = try Self.renamingInput(mobile.graph, to: inputName)
        if let resize = graph.nodes.first(where: { if case .resizeBilinear = $0.op { true } else { false } }),
           case .resizeBilinear(let h, let w) = resize.op, h != sampleShape[1] || w != sampleShape[2] {
            mobile.graph = try Self.prependingResize(mobile.graph, inputName: inputName, height: h, width: w)
        }
        let m = try measurer.measure(mobile.graph, mobile.parameters, pairedWith: base)
        return TechniqueAnalysis(
            name: "inverted_residuals", candidate_layers: blocks.count, candidates: blocks, needs_retraining: true,
            sensitivity_risk: "high: a different architecture (MobileNetV2), trained from scratch",
            estimated: estimate, measured: m.compared(to: base, outputChange: nil),
            estimate_basis: "blocks with ≥3 convs; rule of thumb 60% MAC reduction; coverage = min(1, blocks/8); "
                + "speedup = 1 + 0.6 × conv coverage × coverage × 2.5",
            measurement: "architecture change, trained from scratch: ModelZoo's mobilenetv2 (width 1, t = 6) measured on the same input",
            details: ["mobilenetv2_parameters": Double(m.parameters), "mobilenetv2_macs": Double(m.macs)].merging(batchMemory(m)) { a, _ in a })
    }

    func lowRankFactorization() throws -> TechniqueAnalysis {
        let f = options.rankFraction
        var candidates: [ConvSite] = []
        var candidateParams = 0.0, savedParams = 0.0, savedMACs = 0.0, candidateMACs = 0.0
        for s in graph.convSites().filter(ConvSelection.blockConvolutions.includes) {
            let (k, n) = (s.outChannels, s.inChannels * s.kernel.h * s.kernel.w)
            let full = min(k, n), r = max(1, min(full, Int((f * Double(full)).rounded())))
            guard r * (n + k) < k * n else { continue }
            candidates.append(s)
            candidateParams += Double(k * n)
            candidateMACs += Double(macs(s.node))
            savedParams += Double(k * n - r * (n + k))
            savedMACs += Double(pixels(s.node) * (k * n - r * (n + k)))
        }
        // The spec's own candidates: linear layers with in·out > 10 000 (ResNet-18's 512×2 head is not one).
        let linearCandidates = graph.nodes.filter { $0.op == .linear && (graph[$0.inputs[1]].shape.reduce(1, *) > 10_000) }.count
        let impact = (convShare + linearShare) * (candidateMACs / Double(max(convMACs + linearMACs, 1)))
        let speedup = 1 + (candidateParams > 0 ? savedParams / candidateParams : 0) * impact * 0.7
        let estimate = Estimate(params_reduction: fraction(savedParams, of: base.parameters), macs_reduction: fraction(savedMACs, of: base.macs),
                                speedup: speedup, memory_change: memoryChange(savingParameters: savedParams), throughput_change: speedup - 1)
        let rewritten = try ArchitectureRewrites.lowRank(graph, parameters, rank: .fraction(f))
        let (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        var details = keptEnergy(rewritten.changes).merging(batchMemory(m)) { a, _ in a }
        details["rank_fraction"] = f
        details["spec_linear_candidates"] = Double(linearCandidates)
        return TechniqueAnalysis(
            name: "low_rank_factorization", candidate_layers: candidates.count, candidates: candidates.map(\.name), needs_retraining: true,
            sensitivity_risk: "medium: keeps \(String(format: "%.0f", 100 * (details["mean_weight_energy_kept"] ?? 0)))% of the weight energy "
                + "at rank \(f)×full; fine-tune",
            estimated: estimate, measured: measurement,
            estimate_basis: "3×3 convs as K×(C·k²) matrices, rank = \(f) × full: params r·(C·k² + K); "
                + "speedup = 1 + param reduction × matmul impact (conv+linear time × candidate MAC share) × 0.7",
            measurement: "truncated SVD (double precision) → r×C×3×3 conv + K×r 1×1 conv, plan compiled and timed",
            details: details)
    }

    func parameterSharing() throws -> TechniqueAnalysis {
        let rewritten = try ArchitectureRewrites.shareParameters(graph, parameters)
        let tied = rewritten.changes.filter { $0.detail.hasPrefix("reads") }
        let sites = Dictionary(graph.convSites().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let shareable = Double(tied.reduce(0) { $0 + (sites[$1.layer]?.weightShape.reduce(1, *) ?? 0) })
        let potential = min(0.25, fraction(shareable, of: base.parameters))
        let speedup = 1 + potential * 0.4
        let estimate = Estimate(params_reduction: fraction(shareable, of: base.parameters), macs_reduction: 0, speedup: speedup,
                                memory_change: memoryChange(savingParameters: shareable), throughput_change: speedup - 1)
        let (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        var details = keptEnergy(rewritten.changes).merging(batchMemory(m)) { a, _ in a }
        details["sharing_potential"] = potential
        return TechniqueAnalysis(
            name: "parameter_sharing", candidate_layers: tied.count, candidates: tied.map(\.layer), needs_retraining: true,
            sensitivity_risk: "high: two convolutions forced to one weight; needs retraining",
            estimated: estimate, measured: measurement,
            estimate_basis: "conv2 of each block tied to conv1 where shapes match: saved = tied weights; "
                + "potential = min(0.25, saved/total); speedup = 1 + potential × 0.4",
            measurement: "weights tied to their mean, plan compiled and timed (the plan keeps one folded copy per convolution, "
                + "since each has its own batch-norm, so its memory does not shrink)",
            details: details)
    }

    func channelPruning() throws -> TechniqueAnalysis {
        let f = options.pruneFraction
        let chains = ArchitectureRewrites.pruneChains(graph)
        var savedParams = 0.0, savedMACs = 0.0
        for chain in chains {
            let a = graph.nodes[chain.a], b = graph.nodes[chain.b]
            let wa = graph[a.inputs[1]].shape, wb = graph[b.inputs[1]].shape
            let k = wa[0], removed = k - max(1, k - Int(f * Double(k)))
            let ratio = Double(removed) / Double(k)
            let perOut = wa.dropFirst().reduce(1, *) + (a.inputs.count == 3 ? 1 : 0) + 2   // weight row, bias, γ and β
            savedParams += Double(removed * perOut + wb[0] * removed * wb[2] * wb[3])
            savedMACs += ratio * Double(macs(chain.a) + macs(chain.b))
        }
        let speedup = 1 / (1 - convShare * fraction(savedMACs, of: convMACs))
        let estimate = Estimate(params_reduction: fraction(savedParams, of: base.parameters), macs_reduction: fraction(savedMACs, of: base.macs),
                                speedup: speedup, memory_change: memoryChange(savingParameters: savedParams), throughput_change: speedup - 1)
        let rewritten = try ArchitectureRewrites.pruneChannels(graph, parameters, fraction: f)
        let (measurement, m) = try measured(rewritten.graph, rewritten.parameters)
        var details = keptEnergy(rewritten.changes).merging(batchMemory(m)) { a, _ in a }
        details["prune_fraction"] = f
        return TechniqueAnalysis(
            name: "channel_pruning", candidate_layers: chains.count, candidates: chains.map { graph.nodes[$0.a].name }, needs_retraining: true,
            sensitivity_risk: "medium: \(Int(f * 100))% of each block's inner channels removed; fine-tune",
            estimated: estimate, measured: measurement,
            estimate_basis: "conv→BN→ReLU→conv chains: ⌊\(f)·K⌋ channels out of A and into B; speedup = Amdahl over conv time",
            measurement: "lowest-L1 output channels removed, plan compiled and timed",
            details: details)
    }

    /// `graph` fed at its own input size, resized bilinearly to `height × width` before the rest.
    static func prependingResize(_ graph: Graph, inputName: String, height: Int, width: Int) throws -> Graph {
        guard let input = graph.inputID(inputName) else { throw EngineError.invalid("analysis", "the graph has no input '\(inputName)'") }
        var out = Graph()
        let x = graph[input]
        out.nodes.append(x)
        out.nodes.append(Node(op: .resizeBilinear(height: height, width: width), inputs: [ValueID(0)],
                              shape: [x.shape[0], x.shape[1], height, width], name: ""))
        var map = [Int](repeating: -1, count: graph.nodes.count)
        map[input.index] = 1
        for (i, node) in graph.nodes.enumerated() where i != input.index {
            var n = node
            n.inputs = node.inputs.map { ValueID(map[$0.index]) }
            map[i] = out.nodes.count
            out.nodes.append(n)
        }
        out.outputs = graph.outputs.map { ValueID(map[$0.index]) }
        return out
    }

    /// `graph` with its input `image` renamed (models from ONNX files name their input otherwise).
    static func renamingInput(_ graph: Graph, to name: String) throws -> Graph {
        guard let input = graph.inputID("image") else { throw EngineError.invalid("analysis", "the graph has no input 'image'") }
        var g = graph
        g.nodes[input.index].op = .input(name: name)
        g.nodes[input.index].name = name
        return g
    }
}
