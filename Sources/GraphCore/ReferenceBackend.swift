/// Plain Swift loops, written to be obviously correct rather than fast: the reference every other
/// backend is tested against, and the fallback for shapes a fast path does not take.
/// All results are row-major.
public struct ReferenceBackend: Backend {
    public init() {}
    public var name: String { "reference" }

    // MARK: convolution

    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ a: Conv2dAttributes) throws -> Tensor {
        let outShape = try ShapeInference.infer(.conv2d(a), [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []), name: "")
        let (xs, ws) = (x.contiguous().scalars, weight.scalars)
        let g = ConvGeometry(x.shape, weight.shape, outShape, a)
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        let b = bias?.scalars
        g.forEachTap { o, i, w in out[o] += xs[i] * ws[w] }
        if let b { for o in out.indices { out[o] += b[(o / g.outPlane) % g.k] } }
        return try Tensor(shape: outShape, scalars: out)
    }

    public func conv2dBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool, _ a: Conv2dAttributes,
                               needInput: Bool) throws -> (input: Tensor?, weight: Tensor, bias: Tensor?) {
        let (xs, ws, gs) = (x.contiguous().scalars, weight.scalars, gradOut.contiguous().scalars)
        let g = ConvGeometry(x.shape, weight.shape, gradOut.shape, a)
        var dx = [Float](repeating: 0, count: xs.count)
        var dw = [Float](repeating: 0, count: ws.count)
        g.forEachTap { o, i, w in
            dx[i] += gs[o] * ws[w]
            dw[w] += gs[o] * xs[i]
        }
        var db: Tensor?
        if hasBias {
            var sums = [Float](repeating: 0, count: g.k)
            for o in gs.indices { sums[(o / g.outPlane) % g.k] += gs[o] }
            db = try Tensor(shape: [g.k], scalars: sums)
        }
        return (needInput ? try Tensor(shape: x.shape, scalars: dx) : nil, try Tensor(shape: weight.shape, scalars: dw), db)
    }

    // MARK: batch norm

    public func batchNormTraining(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) throws
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let (mean, variance) = Self.channelMoments(x.contiguous())
        let y = try batchNormInference(x, weight: weight, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
        return (y, mean, variance)
    }

    public func batchNormInference(_ x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                                   epsilon: Float) throws -> Tensor {
        let xs = x.contiguous().scalars
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        let (w, b, m, v) = (weight.scalars, bias.scalars, mean.scalars, variance.scalars)
        var out = xs
        for i in out.indices {
            let ch = (i / plane) % c
            out[i] = (xs[i] - m[ch]) / (v[ch] + epsilon).squareRoot() * w[ch] + b[ch]
        }
        return try Tensor(shape: x.shape, scalars: out)
    }

    public func batchNormBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor,
                                  epsilon: Float) throws -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let (xs, gs) = (x.contiguous().scalars, gradOut.contiguous().scalars)
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        let m = Float(x.shape[0] * plane)
        let (w, mu, v) = (weight.scalars, mean.scalars, variance.scalars)
        var dgamma = [Float](repeating: 0, count: c), dbeta = [Float](repeating: 0, count: c)
        for i in xs.indices {
            let ch = (i / plane) % c
            let xhat = (xs[i] - mu[ch]) / (v[ch] + epsilon).squareRoot()
            dgamma[ch] += gs[i] * xhat
            dbeta[ch] += gs[i]
        }
        // dx = γ/σ · (g − mean(g) − x̂ · mean(g · x̂))
        var dx = xs
        for i in xs.indices {
            let ch = (i / plane) % c
            let invStd = 1 / (v[ch] + epsilon).squareRoot()
            let xhat = (xs[i] - mu[ch]) * invStd
            dx[i] = w[ch] * invStd * (gs[i] - dbeta[ch] / m - xhat * dgamma[ch] / m)
        }
        return (try Tensor(shape: x.shape, scalars: dx), try Tensor(shape: [c], scalars: dgamma), try Tensor(shape: [c], scalars: dbeta))
    }

    /// Per-channel mean and biased variance of a row-major `[N, C, H, W]` tensor.
    static func channelMoments(_ x: Tensor) -> (Tensor, Tensor) {
        let xs = x.scalars
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        let m = Double(x.shape[0] * plane)
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        for i in xs.indices { sum[(i / plane) % c] += Double(xs[i]) }
        for i in xs.indices { let ch = (i / plane) % c; let d = Double(xs[i]) - sum[ch] / m; sq[ch] += d * d }
        return (try! Tensor(shape: [c], scalars: sum.map { Float($0 / m) }),
                try! Tensor(shape: [c], scalars: sq.map { Float($0 / m) }))
    }

    // MARK: activations

    public func relu(_ x: Tensor, cap: Float?) throws -> Tensor {
        let limit = cap ?? .infinity
        return try Tensor(shape: x.shape, scalars: x.scalars.map { min(max($0, 0), limit) })
    }

    public func reluBackward(_ gradOut: Tensor, output: Tensor, cap: Float?) throws -> Tensor {
        let limit = cap ?? .infinity
        let y = output.scalars
        return try Tensor(shape: output.shape, scalars: zip(gradOut.scalars, y).map { g, y in y > 0 && y < limit ? g : 0 })
    }

    // MARK: pooling

    public func maxPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor {
        let outShape = try ShapeInference.infer(.maxPool2d(a), [x.shape], name: "")
        let xs = x.contiguous().scalars
        var out = [Float](repeating: -.infinity, count: outShape.reduce(1, *))
        PoolGeometry(x.shape, outShape, a).forEachWindowTap { o, i in if let i, xs[i] > out[o] { out[o] = xs[i] } }
        return try Tensor(shape: outShape, scalars: out)
    }

    public func maxPool2dBackward(_ gradOut: Tensor, x: Tensor, _ a: Pool2dAttributes) throws -> Tensor {
        let xs = x.contiguous().scalars, gs = gradOut.contiguous().scalars
        var best = [Int](repeating: -1, count: gs.count)
        PoolGeometry(x.shape, gradOut.shape, a).forEachWindowTap { o, i in
            if let i, best[o] < 0 || xs[i] > xs[best[o]] { best[o] = i }
        }
        var dx = [Float](repeating: 0, count: xs.count)
        for o in gs.indices where best[o] >= 0 { dx[best[o]] += gs[o] }
        return try Tensor(shape: x.shape, scalars: dx)
    }

    public func avgPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor {
        let outShape = try ShapeInference.infer(.avgPool2d(a), [x.shape], name: "")
        let xs = x.contiguous().scalars
        let scale = 1 / Float(a.kernel.h * a.kernel.w)
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        PoolGeometry(x.shape, outShape, a).forEachWindowTap { o, i in if let i { out[o] += xs[i] * scale } }
        return try Tensor(shape: outShape, scalars: out)
    }

    public func avgPool2dBackward(_ gradOut: Tensor, inputShape: [Int], _ a: Pool2dAttributes) throws -> Tensor {
        let gs = gradOut.contiguous().scalars
        let scale = 1 / Float(a.kernel.h * a.kernel.w)
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        PoolGeometry(inputShape, gradOut.shape, a).forEachWindowTap { o, i in if let i { dx[i] += gs[o] * scale } }
        return try Tensor(shape: inputShape, scalars: dx)
    }

    // MARK: linear and element-wise

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        let outShape = try ShapeInference.infer(.linear, [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []), name: "")
        let (xs, ws) = (x.scalars, weight.scalars)
        let (n, inF, outF) = (x.shape[0], x.shape[1], weight.shape[0])
        let b = bias?.scalars ?? [Float](repeating: 0, count: outF)
        var out = [Float](repeating: 0, count: n * outF)
        for r in 0..<n { for o in 0..<outF {
            var s = b[o]
            for i in 0..<inF { s += xs[r * inF + i] * ws[o * inF + i] }
            out[r * outF + o] = s
        } }
        return try Tensor(shape: outShape, scalars: out)
    }

    public func linearBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool) throws
        -> (input: Tensor, weight: Tensor, bias: Tensor?) {
        let (xs, ws, gs) = (x.scalars, weight.scalars, gradOut.scalars)
        let (n, inF, outF) = (x.shape[0], x.shape[1], weight.shape[0])
        var dx = [Float](repeating: 0, count: xs.count), dw = [Float](repeating: 0, count: ws.count)
        var db = [Float](repeating: 0, count: outF)
        for r in 0..<n { for o in 0..<outF {
            let g = gs[r * outF + o]
            db[o] += g
            for i in 0..<inF {
                dx[r * inF + i] += g * ws[o * inF + i]
                dw[o * inF + i] += g * xs[r * inF + i]
            }
        } }
        return (try Tensor(shape: x.shape, scalars: dx), try Tensor(shape: weight.shape, scalars: dw),
                hasBias ? try Tensor(shape: [outF], scalars: db) : nil)
    }

    public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.shape == b.shape else { throw EngineError.shape("add", "operands \(describe(a.shape)) and \(describe(b.shape)) differ") }
        return try Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(+))
    }

    public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.shape == b.shape else { throw EngineError.shape("multiply", "operands \(describe(a.shape)) and \(describe(b.shape)) differ") }
        return try Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(*))
    }

    // MARK: resize

    public func resizeBilinear(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        let outShape = try ShapeInference.infer(.resizeBilinear(height: height, width: width), [x.shape], name: "")
        let xs = x.contiguous().scalars
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        BilinearGeometry(inputShape: x.shape, height: height, width: width).forEachTap { o, i, w in out[o] += w * xs[i] }
        return try Tensor(shape: outShape, scalars: out)
    }

    public func resizeBilinearBackward(_ gradOut: Tensor, inputShape: [Int]) throws -> Tensor {
        let gs = gradOut.contiguous().scalars
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        BilinearGeometry(inputShape: inputShape, height: gradOut.shape[2], width: gradOut.shape[3])
            .forEachTap { o, i, w in dx[i] += w * gs[o] }
        return try Tensor(shape: inputShape, scalars: dx)
    }
}
