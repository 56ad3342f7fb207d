/// Whether batch-norm uses batch statistics (and updates its running ones) and dropout drops.
public enum ExecutionMode: Sendable { case training, inference }

/// The values of one forward pass, and what each op saved for its backward.
public struct ForwardPass: @unchecked Sendable {
    public internal(set) var values: [Tensor?]
    /// Training passes keep every value; inference passes release them early and cannot be differentiated.
    public internal(set) var mode: ExecutionMode
    var saved: [Int: SavedState] = [:]
    public subscript(id: ValueID) -> Tensor? { values[id.index] }
}

enum SavedState {
    case batchNorm(mean: Tensor, variance: Tensor)
    case dropoutMask(Tensor)
    case softmax(SoftmaxCrossEntropy.Saved)
}

/// Runs a graph on a backend: the forward pass, and reverse-mode autograd over the same graph.
/// Each op's forward is in `forward(node:)` and its backward in `backward(node:)`, side by side.
public struct Executor: Sendable {
    public let graph: Graph
    public let backend: any Backend

    public init(graph: Graph, backend: any Backend) {
        self.graph = graph
        self.backend = backend
    }

    /// Runs every node. In training mode batch-norm running statistics in `parameters` are updated and
    /// all values are kept for `backward`; in inference mode values are released after their last use.
    /// `keepValues` keeps every value of an inference pass too (to read intermediates, as INT8 calibration does).
    public func forward(feeds: [String: Tensor], parameters: inout ParameterStore, mode: ExecutionMode,
                        rng: inout SeededRandom, keepValues: Bool = false) throws -> ForwardPass {
        try backend.withFloatMode { try forwardPass(feeds: feeds, parameters: &parameters, mode: mode, rng: &rng, keepValues: keepValues) }
    }

    private func forwardPass(feeds: [String: Tensor], parameters: inout ParameterStore, mode: ExecutionMode,
                             rng: inout SeededRandom, keepValues: Bool) throws -> ForwardPass {
        _ = try graph.inferShapes(inputs: feeds.mapValues(\.shape))
        var pass = ForwardPass(values: Array(repeating: nil, count: graph.nodes.count), mode: mode)
        let lastUse = mode == .inference && !keepValues ? graph.lastUses() : []
        for (i, node) in graph.nodes.enumerated() {
            pass.values[i] = try forward(node: node, index: i, feeds: feeds, parameters: &parameters, mode: mode,
                                         rng: &rng, pass: &pass)
            if mode == .inference && !keepValues {
                for input in node.inputs where lastUse[input.index] == i { pass.values[input.index] = nil }
            }
        }
        return pass
    }

    private func forward(node: Node, index: Int, feeds: [String: Tensor], parameters: inout ParameterStore,
                         mode: ExecutionMode, rng: inout SeededRandom, pass: inout ForwardPass) throws -> Tensor {
        func input(_ k: Int) -> Tensor { pass.values[node.inputs[k].index]! }
        func optionalInput(_ k: Int) -> Tensor? { node.inputs.count > k ? input(k) : nil }
        switch node.op {
        case .input(let name):
            return feeds[name]!
        case .parameter(let name), .buffer(let name):
            guard let t = parameters[name] else { throw EngineError.invalid("executor", "no value for parameter '\(name)'") }
            return t
        case .conv2d(let a):
            return try backend.conv2d(input(0), weight: input(1), bias: optionalInput(2), a)
        case .batchNorm2d(let a):
            if mode == .inference {
                return try backend.batchNormInference(input(0), weight: input(1), bias: input(2), mean: input(3),
                                                      variance: input(4), epsilon: a.epsilon)
            }
            let (y, mean, variance) = try backend.batchNormTraining(input(0), weight: input(1), bias: input(2), epsilon: a.epsilon)
            pass.saved[index] = .batchNorm(mean: mean, variance: variance)
            try updateRunningStatistics(node: node, mean: mean, variance: variance, momentum: a.momentum,
                                        count: input(0).count / input(0).shape[1], parameters: &parameters)
            return y
        case .relu: return try backend.relu(input(0), cap: nil)
        case .relu6: return try backend.relu(input(0), cap: 6)
        case .maxPool2d(let a): return try backend.maxPool2d(input(0), a)
        case .avgPool2d(let a): return try backend.avgPool2d(input(0), a)
        case .globalAvgPool: return try backend.globalAvgPool(input(0))
        case .linear: return try backend.linear(input(0), weight: input(1), bias: optionalInput(2))
        case .add: return try backend.add(input(0), input(1))
        case .flatten(let start):
            let x = input(0)
            return try x.reshaped(Array(x.shape[..<start]) + [x.shape[start...].reduce(1, *)])
        case .dropout(let p):
            guard mode == .training, p > 0 else { return input(0) }
            let x = input(0)
            let mask = try backend.dropoutMask(like: x, probability: p, rng: &rng)
            pass.saved[index] = .dropoutMask(mask)
            return try backend.multiply(x, mask)
        case .resizeBilinear(let h, let w):
            let x = input(0)
            if x.shape[2] == h && x.shape[3] == w { return x }
            return try backend.resizeBilinear(x, height: h, width: w)
        case .softmaxCrossEntropy(let weights):
            let (loss, saved) = try SoftmaxCrossEntropy.forward(logits: input(0), labels: input(1), classWeights: weights)
            pass.saved[index] = .softmax(saved)
            return loss
        case .fakeQuantize(let q):
            return try backend.fakeQuantize(input(0), q)
        case .binary(let op): return try backend.binary(op, input(0), input(1))
        case .activation(let f): return try backend.activation(input(0), f)
        case .softmax(let axis): return try backend.softmax(input(0), axis: axis)
        case .transpose(let perm): return try backend.transpose(input(0), permutation: perm)
        case .pad(let a): return try backend.pad(input(0), a)
        case .concat(let axis): return try backend.concat(node.inputs.indices.map(input), axis: axis)
        case .reduceMean(let axes, let keep): return try backend.reduceMean(input(0), axes: axes, keepDims: keep)
        }
    }

    private func updateRunningStatistics(node: Node, mean: Tensor, variance: Tensor, momentum: Float, count: Int,
                                         parameters: inout ParameterStore) throws {
        guard case .buffer(let meanName) = graph[node.inputs[3]].op,
              case .buffer(let varName) = graph[node.inputs[4]].op,
              let runningMean = parameters[meanName], let runningVar = parameters[varName] else { return }
        let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
        try parameters.set(meanName, backend.momentumUpdate(runningMean, batch: mean, momentum: momentum, scale: 1))
        try parameters.set(varName, backend.momentumUpdate(runningVar, batch: variance, momentum: momentum, scale: unbias))
    }

    /// Gradients of the scalar `output` (default: the graph's last output) with respect to every trainable
    /// parameter, by walking the recorded nodes in reverse.
    public func backward(_ pass: ForwardPass, output: ValueID? = nil) throws -> [String: Tensor] {
        guard let root = output ?? graph.outputs.last else { throw EngineError.invalid("backward", "the graph has no output") }
        guard let rootValue = pass[root], rootValue.count == 1 else {
            throw EngineError.invalid("backward", "the differentiated output must be a scalar that the forward pass kept")
        }
        return try backward(pass, seed: root, gradient: Tensor(repeating: 1, shape: rootValue.shape))
    }

    /// Gradients of a loss computed outside the graph, given `gradient` = d loss / d `seed` for a value the
    /// forward pass kept (PyTorch's `tensor.backward(gradient)`): how a loss that needs more than the graph
    /// holds (distillation's teacher logits) trains through it. Nodes after `seed` take no part.
    public func backward(_ pass: ForwardPass, seed: ValueID, gradient: Tensor) throws -> [String: Tensor] {
        try backend.withFloatMode { try backwardPass(pass, seed: seed, gradient: gradient) }
    }

    private func backwardPass(_ pass: ForwardPass, seed root: ValueID, gradient: Tensor) throws -> [String: Tensor] {
        guard pass.mode == .training else {
            throw EngineError.invalid("backward", "the forward pass ran in inference mode, which releases the values backward needs")
        }
        guard root.index >= 0, root.index < graph.nodes.count, let rootValue = pass[root] else {
            throw EngineError.invalid("backward", "the differentiated value must be one the forward pass kept")
        }
        guard gradient.shape == rootValue.shape else {
            throw EngineError.shape("backward", "the seed gradient is \(describe(gradient.shape)), the value '\(graph[root].name)' \(describe(rootValue.shape))")
        }
        let needsGradient = gradientMask()
        var grads = [Tensor?](repeating: nil, count: graph.nodes.count)
        grads[root.index] = gradient
        var result: [String: Tensor] = [:]
        for i in stride(from: root.index, through: 0, by: -1) {
            guard let g = grads[i] else { continue }
            grads[i] = nil
            let node = graph.nodes[i]
            if case .parameter(let name) = node.op { result[name] = g; continue }
            let inputGrads = try backward(node: node, index: i, gradOut: g, pass: pass,
                                          needs: node.inputs.map { needsGradient[$0.index] })
            for (k, ig) in inputGrads.enumerated() {
                guard let ig, needsGradient[node.inputs[k].index] else { continue }
                let target = node.inputs[k].index
                grads[target] = try grads[target].map { try backend.add($0, ig) } ?? ig
            }
        }
        return result
    }

    /// Which nodes depend on a trainable parameter (only those need gradients).
    private func gradientMask() -> [Bool] {
        var needs = [Bool](repeating: false, count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            if case .parameter = node.op { needs[i] = true } else { needs[i] = node.inputs.contains { needs[$0.index] } }
        }
        return needs
    }

    private func backward(node: Node, index: Int, gradOut g: Tensor, pass: ForwardPass, needs: [Bool]) throws -> [Tensor?] {
        func input(_ k: Int) -> Tensor { pass.values[node.inputs[k].index]! }
        switch node.op {
        case .input, .parameter, .buffer:
            return []
        case .conv2d(let a):
            let r = try backend.conv2dBackward(g, x: input(0), weight: input(1), hasBias: node.inputs.count == 3, a,
                                               needInput: needs[0])
            return [r.input, r.weight, r.bias]
        case .batchNorm2d(let a):
            guard case .batchNorm(let mean, let variance)? = pass.saved[index] else {
                throw EngineError.unsupported("batch_norm2d '\(node.name)'", "backward needs a training-mode forward pass")
            }
            let r = try backend.batchNormBackward(g, x: input(0), weight: input(1), mean: mean, variance: variance, epsilon: a.epsilon)
            return [r.input, r.weight, r.bias, nil, nil]
        case .relu: return [try backend.reluBackward(g, output: pass.values[index]!, cap: nil)]
        case .relu6: return [try backend.reluBackward(g, output: pass.values[index]!, cap: 6)]
        case .maxPool2d(let a): return [try backend.maxPool2dBackward(g, x: input(0), a)]
        case .avgPool2d(let a): return [try backend.avgPool2dBackward(g, inputShape: input(0).shape, a)]
        case .globalAvgPool:
            let x = input(0)
            return [try backend.avgPool2dBackward(g, inputShape: x.shape, Pool2dAttributes(kernel: Pair(x.shape[2], x.shape[3])))]
        case .linear:
            let r = try backend.linearBackward(g, x: input(0), weight: input(1), hasBias: node.inputs.count == 3)
            return [r.input, r.weight, r.bias]
        case .add: return [g, g]
        case .flatten: return [try g.reshaped(input(0).shape)]
        case .dropout:
            guard case .dropoutMask(let mask)? = pass.saved[index] else { return [g] }
            return [try backend.multiply(g, mask)]
        case .resizeBilinear(let h, let w):
            let x = input(0)
            if x.shape[2] == h && x.shape[3] == w { return [g] }
            return [try backend.resizeBilinearBackward(g, inputShape: x.shape)]
        case .softmaxCrossEntropy:
            guard case .softmax(let saved)? = pass.saved[index] else { return [nil, nil] }
            return [try SoftmaxCrossEntropy.backward(saved, gradOut: g.scalars[0]), nil]
        case .fakeQuantize(let q):
            return [try backend.fakeQuantizeBackward(g, x: input(0), q)]
        case .binary(let op):
            let r = try backend.binaryBackward(op, g, a: input(0), b: input(1))
            return [r.a, r.b]
        case .activation(let f): return [try backend.activationBackward(g, x: input(0), f)]
        case .softmax(let axis): return [try backend.softmaxBackward(g, output: pass.values[index]!, axis: axis)]
        case .transpose(let perm):
            var inverse = perm
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return [try backend.transpose(g, permutation: inverse)]
        case .pad(let a): return [try backend.padBackward(g, inputShape: input(0).shape, a)]
        case .concat(let axis): return try backend.concatBackward(g, inputShapes: node.inputs.indices.map { input($0).shape }, axis: axis)
        case .reduceMean(let axes, let keep):
            return [try backend.reduceMeanBackward(g, inputShape: input(0).shape, axes: axes, keepDims: keep)]
        }
    }
}
