import GraphCore

extension ArchitectureRewrites {
    /// Depthwise-separable convolutions: each selected dense convolution `C → K` with a `kH×kW` kernel
    /// becomes a depthwise `kH×kW` convolution `D [C, 1, kH, kW]` (the original stride, padding and
    /// dilation) followed by a pointwise 1×1 convolution `P [K, C, 1, 1]` (with the original bias, if any).
    /// Together they compute the weight `W'[k, c] = P[k, c]·D[c]`: for each input channel c, the `K × kH·kW`
    /// slice `W[:, c, :, :]` is replaced by its best rank-1 approximation `σ·u·vᵀ` (top eigenvector of the
    /// `kH·kW`-square Gram matrix, by Jacobi rotations), balanced as `D[c] = √σ·v`, `P[:, c] = √σ·u`.
    ///
    /// Preserves: the function exactly (to float rounding) when every slice is rank 1 (W separable);
    /// otherwise only the top singular direction per input channel survives: needs retraining.
    /// Parameters `K·C·kH·kW → C·kH·kW + K·C`; MACs the same per output pixel. New parameters are
    /// `<conv>.0.weight` and `<conv>.1.weight` (`resnet18-dws`'s names).
    public static func depthwiseSeparable(_ graph: Graph, _ parameters: ParameterStore,
                                          selection: ConvSelection = .blockConvolutions) throws -> RewriteResult {
        let selected = Dictionary(uniqueKeysWithValues: graph.convSites().filter(selection.includes).map { ($0.node, $0) })
        var r = GraphRewriter(graph, parameters: parameters)
        var changes: [LayerChange] = []
        for (i, node) in graph.nodes.enumerated() {
            guard let s = selected[i] else { r.keep(i); continue }
            let (k, c, kh, kw) = (s.weightShape[0], s.weightShape[1], s.weightShape[2], s.weightShape[3])
            let taps = kh * kw
            let w = try RewriteSupport.tensor(node.inputs[1], graph, parameters, "depthwise-separable").scalars
            var depthwise = [Float](repeating: 0, count: c * taps), pointwise = [Float](repeating: 0, count: k * c)
            var composed = [Float](repeating: 0, count: w.count)
            for ch in 0..<c {
                let (u, v, sigma) = rankOne(w, k: k, c: c, channel: ch, taps: taps)
                let root = sigma.squareRoot()
                for t in 0..<taps { depthwise[ch * taps + t] = Float(root * v[t]) }
                for o in 0..<k { pointwise[o * c + ch] = Float(root * u[o]) }
                for o in 0..<k { for t in 0..<taps { composed[(o * c + ch) * taps + t] = pointwise[o * c + ch] * depthwise[ch * taps + t] } }
            }
            var a = s.attributes
            a.groups = c
            let dw = r.emitParameter(s.prefix + ".0.weight", try Tensor(shape: [c, 1, kh, kw], scalars: depthwise))
            let y = r.emit(Node(op: .conv2d(a), inputs: [r.mapped(node.inputs[0]), dw], shape: [], name: s.name + ".0"))
            let pw = r.emitParameter(s.prefix + ".1.weight", try Tensor(shape: [k, c, 1, 1], scalars: pointwise))
            let bias = node.inputs.count == 3 ? [r.mapped(node.inputs[2])] : []
            r.alias(i, to: r.emit(Node(op: .conv2d(Conv2dAttributes()), inputs: [y, pw] + bias, shape: [], name: s.name + ".1")))
            changes.append(LayerChange(layer: s.name, detail: "\(RewriteSupport.shape(s.weightShape)) → "
                                       + "\(RewriteSupport.shape([c, 1, kh, kw])) + \(RewriteSupport.shape([k, c, 1, 1]))",
                                       weightError: RewriteSupport.relativeError(w, composed)))
        }
        return try RewriteSupport.finish(r, changes)
    }

    /// The top singular triple of `M = W[:, channel, :, :]` (`k × taps`): `M ≈ σ·u·vᵀ`, unit u and v.
    static func rankOne(_ w: [Float], k: Int, c: Int, channel: Int, taps: Int) -> (u: [Double], v: [Double], sigma: Double) {
        func m(_ o: Int, _ t: Int) -> Double { Double(w[(o * c + channel) * taps + t]) }
        var gram = [Double](repeating: 0, count: taps * taps)
        for o in 0..<k { for a in 0..<taps { let x = m(o, a); if x != 0 { for b in 0..<taps { gram[a * taps + b] += x * m(o, b) } } } }
        let eigen = SymmetricEigen.jacobi(gram, n: taps)
        let v = Array(eigen.vector(0))
        var u = (0..<k).map { o in (0..<taps).reduce(0.0) { $0 + m(o, $1) * v[$1] } }
        let sigma = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if sigma > 0 { u = u.map { $0 / sigma } }
        return (u, v, sigma)
    }
}
