import NN

/// The layers of a spec, applied in order, each scoped by its index like `nn.Sequential`.
struct SpecLayers: Layer {
    let layers: [LayerSpec]
    let classes: Int
    let path: String

    func callAsFunction(_ input: Value) throws -> Value {
        var x = input
        for (i, spec) in layers.enumerated() {
            let here = "\(path)[\(i)]"
            x = try x.graphBuilder.scoped(String(i)) { try apply(spec, x, here) }
        }
        return x
    }

    private func apply(_ spec: LayerSpec, _ x: Value, _ here: String) throws -> Value {
        func fail(_ m: String) -> EngineError { .invalid("model spec \(here)", m) }
        func needsMaps() throws -> Int {
            guard x.shape.count == 4 else { throw fail("needs a 4-D input [N, C, H, W], got \(describe(x.shape))") }
            return x.shape[1]
        }
        switch spec {
        case .conv(let out, let kernel, let stride, let padding, let groups, let depthwise, let bias):
            let c = try needsMaps()
            let o = out ?? c
            let g = depthwise ? c : groups
            if depthwise && o % c != 0 { throw fail("a depthwise conv needs out a multiple of its \(c) input channels, got \(o)") }
            guard c % g == 0, o % g == 0 else { throw fail("groups \(g) must divide in \(c) and out \(o) channels") }
            let config = Conv2dConfig(c, o, kernel: kernel, stride: stride, padding: padding ?? kernel / 2, groups: g, bias: bias)
            return try Conv2d(config)(x)
        case .batchNorm: return try BatchNorm2d(try needsMaps())(x)
        case .relu: return try x.relu()
        case .relu6: return try x.relu6()
        case .maxPool(let k, let s, let p):
            _ = try needsMaps()
            return try x.maxPool2d(Pool2dAttributes(kernel: Pair(k), stride: s.map { Pair($0) }, padding: Pair(p)))
        case .avgPool(let k, let s, let p):
            _ = try needsMaps()
            return try x.avgPool2d(Pool2dAttributes(kernel: Pair(k), stride: s.map { Pair($0) }, padding: Pair(p)))
        case .globalAvgPool: _ = try needsMaps(); return try x.globalAvgPool()
        case .flatten: return try x.flatten(startDim: 1)
        case .dropout(let p): return try x.dropout(p: p)
        case .linear(let out, let bias):
            guard x.shape.count == 2 else {
                throw fail("linear needs a flat input [N, features], got \(describe(x.shape)); add 'flatten' (after 'gap') before it")
            }
            return try Linear(x.shape[1], out ?? classes, bias: bias)(x)
        case .resize(let size):
            _ = try needsMaps()
            return try x.resizeBilinear(height: size, width: size)
        case .residual(let body):
            let y = try SpecLayers(layers: body, classes: classes, path: here + ".residual")(x)
            guard y.shape == x.shape else {
                throw fail("the residual body maps \(describe(x.shape)) to \(describe(y.shape)); it must keep the shape")
            }
            return try y + x
        }
    }
}

