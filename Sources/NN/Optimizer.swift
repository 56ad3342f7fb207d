import Foundation

/// Updates trainable parameters from their gradients. Implementations follow PyTorch's update rules
/// exactly (same state, same order of operations) so that runs are comparable.
public protocol Optimizer {
    /// Updates `parameters` with the update running on `backend` (where the parameters live).
    mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate: Float,
                       on backend: any Backend) throws
}

extension Optimizer {
    /// A step on the host.
    public mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate: Float) throws {
        try step(&parameters, gradients: gradients, learningRate: learningRate, on: ReferenceBackend())
    }
}

func checkedGradient(_ gradients: [String: Tensor], _ name: String) throws -> Tensor? {
    guard let g = gradients[name] else { return nil }
    let plain = g.rank == 4 ? g.contiguous() : g
    if plain.hasNonFinite { throw EngineError.numeric("optimizer", "gradient of '\(name)' holds NaN or Inf") }
    return plain
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

    public mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate lr: Float,
                              on backend: any Backend) throws {
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
    private var moments: [String: (m: Tensor, v: Tensor)] = [:]
    public private(set) var stepCount = 0

    /// The first and second moment estimates by parameter name, as tensors (PyTorch's `exp_avg` and
    /// `exp_avg_sq`), for checkpoints that resume a run exactly.
    public var state: (step: Int, tensors: [(name: String, tensor: Tensor)]) {
        let names = moments.keys.sorted()
        var out: [(String, Tensor)] = []
        for n in names {
            let (m, v) = moments[n]!
            out.append(("\(n).exp_avg", m))
            out.append(("\(n).exp_avg_sq", v))
        }
        return (stepCount, out)
    }

    /// Restores what `state` returned.
    public mutating func restore(step: Int, tensors: [String: Tensor]) throws {
        var restored: [String: (m: Tensor, v: Tensor)] = [:]
        for (key, t) in tensors where key.hasSuffix(".exp_avg") {
            let name = String(key.dropLast(".exp_avg".count))
            guard let v = tensors[name + ".exp_avg_sq"], v.count == t.count else {
                throw EngineError.invalid("optimizer", "optimizer state for '\(name)' lacks a matching exp_avg_sq")
            }
            restored[name] = (try t.reshaped([t.count]), try v.reshaped([v.count]))
        }
        moments = restored
        stepCount = step
    }

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay; self.decoupled = decoupled
    }

    public static func adamW(weightDecay: Float = 1e-2) -> Adam { Adam(weightDecay: weightDecay, decoupled: true) }

    public mutating func step(_ parameters: inout ParameterStore, gradients: [String: Tensor], learningRate lr: Float,
                              on backend: any Backend) throws {
        stepCount += 1
        let update = AdamUpdate(learningRate: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                decoupled: decoupled, step: stepCount)
        for name in parameters.trainableNames {
            guard let g0 = gradients[name] else { continue }
            let g = g0.rank == 4 ? g0.contiguous() : g0   // the update checks finiteness as it goes
            var (m, v) = moments.removeValue(forKey: name) ?? (Tensor(zeros: [g.count]), Tensor(zeros: [g.count]))
            let finite = try parameters.withMutableTensor(name) { p in
                try backend.adamStep(&p, gradient: g, firstMoment: &m, secondMoment: &v, update)
            }
            guard finite else { throw EngineError.numeric("optimizer", "gradient of '\(name)' holds NaN or Inf (the update was not completed)") }
            moments[name] = (m, v)
        }
    }
}
