import Foundation

/// Updates trainable parameters from their gradients. Implementations follow PyTorch's update rules
/// exactly (same state, same order of operations) so that runs are comparable.
public protocol Optimizer {
    mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate: Float) throws
}

func checkedGradient(_ gradients: [String: Tensor], _ name: String) throws -> Tensor? {
    guard let g = gradients[name] else { return nil }
    let plain = g.rank == 4 ? g.contiguous() : g
    if plain.hasNonFinite { throw EngineError.numeric("optimizer", "gradient of '\(name)' holds NaN or Inf") }
    return plain
}

/// One Adam update over raw buffers (PyTorch's order of operations), for a chunk of the elements.
struct AdamKernel: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let lr, wd, b1, b2, eps, stepSize, c2Root: Float
    let decoupled: Bool

    /// Updates the chunk; returns false when a gradient in it is NaN or ±∞ (checked in the same pass:
    /// a separate scan would read every gradient twice).
    func update(_ range: Range<Int>) -> Bool {
        var finite: Float = 0   // stays 0 unless some g·0 is NaN
        let decay = 1 - lr * wd
        if decoupled {
            for i in range {
                let gi = g[i]
                finite += gi * 0
                let pi = p[i] * decay
                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] = pi - stepSize * mi / (vi.squareRoot() / c2Root + eps)
            }
        } else {
            for i in range {
                let pi = p[i]
                let gi = g[i] + wd * pi
                finite += gi * 0
                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] = pi - stepSize * mi / (vi.squareRoot() / c2Root + eps)
            }
        }
        return finite.isFinite
    }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay (`torch.optim.SGD`).
public struct SGD: Optimizer {
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    private var velocity: [String: [Float]] = [:]

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
    }

    public mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate lr: Float) throws {
        for name in parameters.trainableNames {
            guard let g = try checkedGradient(gradients, name) else { continue }
            let gs = g.scalars
            var buf = velocity[name] ?? []
            let first = buf.isEmpty
            if momentum != 0 && first { buf = [Float](repeating: 0, count: gs.count) }
            let (mu, wd, nest) = (momentum, weightDecay, nesterov)
            try parameters.withMutableScalars(name) { p in
                for i in p.indices {
                    var d = gs[i] + wd * p[i]
                    if mu != 0 {
                        buf[i] = first ? d : mu * buf[i] + d
                        d = nest ? d + mu * buf[i] : buf[i]
                    }
                    p[i] -= lr * d
                }
            }
            if momentum != 0 { velocity[name] = buf }
        }
    }
}

/// Adam (`torch.optim.Adam`, L2 weight decay added to the gradient) or, with `decoupled`, AdamW
/// (`torch.optim.AdamW`: the weights decay by `lr·wd` directly).
public struct Adam: Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decoupled: Bool
    private var moments: [String: (m: [Float], v: [Float])] = [:]
    public private(set) var stepCount = 0

    /// The first and second moment estimates by parameter name, as tensors (PyTorch's `exp_avg` and
    /// `exp_avg_sq`), for checkpoints that resume a run exactly.
    public var state: (step: Int, tensors: [(name: String, tensor: Tensor)]) {
        let names = moments.keys.sorted()
        var out: [(String, Tensor)] = []
        for n in names {
            let (m, v) = moments[n]!
            out.append(("\(n).exp_avg", try! Tensor(shape: [m.count], scalars: m)))
            out.append(("\(n).exp_avg_sq", try! Tensor(shape: [v.count], scalars: v)))
        }
        return (stepCount, out)
    }

    /// Restores what `state` returned.
    public mutating func restore(step: Int, tensors: [String: Tensor]) throws {
        var restored: [String: (m: [Float], v: [Float])] = [:]
        for (key, t) in tensors where key.hasSuffix(".exp_avg") {
            let name = String(key.dropLast(".exp_avg".count))
            guard let v = tensors[name + ".exp_avg_sq"], v.count == t.count else {
                throw EngineError.invalid("optimizer", "optimizer state for '\(name)' lacks a matching exp_avg_sq")
            }
            restored[name] = (t.scalars, v.scalars)
        }
        moments = restored
        stepCount = step
    }

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay; self.decoupled = decoupled
    }

    public static func adamW(weightDecay: Float = 1e-2) -> Adam { Adam(weightDecay: weightDecay, decoupled: true) }

    public mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate lr: Float) throws {
        stepCount += 1
        let (b1, b2, eps, wd, decoupled) = (beta1, beta2, epsilon, weightDecay, decoupled)
        let c1 = 1 - Float(pow(Double(b1), Double(stepCount)))
        let c2 = 1 - Float(pow(Double(b2), Double(stepCount)))
        let stepSize = lr / c1, c2Root = c2.squareRoot()
        for name in parameters.trainableNames {
            guard let g0 = gradients[name] else { continue }
            let g = g0.rank == 4 ? g0.contiguous() : g0   // the kernel checks finiteness as it goes
            var (m, v) = moments.removeValue(forKey: name) ?? ([Float](repeating: 0, count: g.count), [Float](repeating: 0, count: g.count))
            try g.withUnsafeBufferPointer { gs in
                try m.withUnsafeMutableBufferPointer { m in
                    try v.withUnsafeMutableBufferPointer { v in
                        try parameters.withMutableScalars(name) { p in
                            let k = AdamKernel(p: p.baseAddress!, g: gs.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, lr: lr, wd: wd,
                                               b1: b1, b2: b2, eps: eps, stepSize: stepSize, c2Root: c2Root, decoupled: decoupled)
                            guard withFlushedDenormals({ OpenMPParallel.all(count: p.count, { range in k.update(range) }) }) else {
                                throw EngineError.numeric("optimizer", "gradient of '\(name)' holds NaN or Inf (the update was not completed)")
                            }
                        }
                    }
                }
            }
            moments[name] = (m, v)
        }
    }
}
