import GraphCore

/// How many singular directions a factorized layer keeps.
public enum RankChoice: Sendable, Hashable {
    /// This rank (capped at the layer's full rank).
    case fixed(Int)
    /// This fraction of the layer's full rank `min(K, C·kH·kW)`, rounded, at least 1.
    case fraction(Double)
    /// The smallest rank keeping this fraction of `‖W‖²_F` (the layer's "energy").
    case energy(Double)
}

extension ArchitectureRewrites {
    /// Low-rank factorization: each selected convolution `K×C×kH×kW` becomes a convolution `r×C×kH×kW`
    /// (the original stride, padding and dilation) followed by a 1×1 convolution `K×r` (with the original
    /// bias, if any), initialised from the truncated SVD of W viewed as a `K × (C·kH·kW)` matrix
    /// (`TruncatedSVD`, balanced factors).
    ///
    /// Preserves: the function exactly (to float rounding) at full rank `r = min(K, C·kH·kW)`; below it,
    /// the best rank-r weight (Eckart–Young), with relative weight error `√(1 − retained energy)`:
    /// needs fine-tuning. Parameters `K·C·kH·kW → r·(C·kH·kW + K)`; MACs scale the same way per output
    /// pixel. New parameters are `<conv>.0.weight` and `<conv>.1.weight` (`resnet18-lowrank`'s names).
    /// With `onlyWhenSmaller`, layers whose factors would not be smaller are left alone.
    public static func lowRank(_ graph: Graph, _ parameters: ParameterStore, rank: RankChoice,
                               selection: ConvSelection = .blockConvolutions, onlyWhenSmaller: Bool = true) throws -> RewriteResult {
        let sites = graph.convSites().filter(selection.includes)
        var plans: [Int: (site: ConvSite, b: [Float], a: [Float], r: Int, error: Double)] = [:]
        for site in sites {
            let (k, c, kh, kw) = (site.weightShape[0], site.weightShape[1], site.weightShape[2], site.weightShape[3])
            let n = c * kh * kw
            guard let w = parameters[site.weightName] else { throw EngineError.invalid("low-rank", "no value for '\(site.weightName)'") }
            let svd = TruncatedSVD(w.scalars.map(Double.init), rows: k, cols: n)
            let r: Int = switch rank {
            case .fixed(let r): max(1, min(r, svd.fullRank))
            case .fraction(let f): max(1, min(svd.fullRank, Int((f * Double(svd.fullRank)).rounded())))
            case .energy(let e): svd.rank(keepingEnergy: e)
            }
            if onlyWhenSmaller && r * (n + k) >= k * n { continue }
            let (b, a) = svd.factors(rank: r)
            plans[site.node] = (site, b.map(Float.init), a.map(Float.init), r, (max(0, 1 - svd.retainedEnergy(rank: r))).squareRoot())
        }
        var r = GraphRewriter(graph, parameters: parameters)
        var changes: [LayerChange] = []
        for (i, node) in graph.nodes.enumerated() {
            guard let plan = plans[i] else { r.keep(i); continue }
            let s = plan.site
            let (k, c, kh, kw) = (s.weightShape[0], s.weightShape[1], s.weightShape[2], s.weightShape[3])
            let first = r.emitParameter(s.prefix + ".0.weight", try Tensor(shape: [plan.r, c, kh, kw], scalars: plan.a))
            let y = r.emit(Node(op: .conv2d(s.attributes), inputs: [r.mapped(node.inputs[0]), first],
                                shape: [], name: s.name + ".0"))
            let second = r.emitParameter(s.prefix + ".1.weight", try Tensor(shape: [k, plan.r, 1, 1], scalars: plan.b))
            let bias = node.inputs.count == 3 ? [r.mapped(node.inputs[2])] : []
            let out = r.emit(Node(op: .conv2d(Conv2dAttributes()), inputs: [y, second] + bias, shape: [], name: s.name + ".1"))
            r.alias(i, to: out)
            changes.append(LayerChange(layer: s.name, detail: "\(RewriteSupport.shape(s.weightShape)) → rank \(plan.r): "
                                       + "\(RewriteSupport.shape([plan.r, c, kh, kw])) + \(RewriteSupport.shape([k, plan.r, 1, 1]))",
                                       weightError: plan.error))
        }
        return try RewriteSupport.finish(r, changes)
    }
}
