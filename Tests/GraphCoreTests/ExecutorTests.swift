import Testing
@testable import GraphCore
import TestSupport

// End-to-end checks of Executor: reverse-mode autograd over a recorded graph (central differences of the
// real training-mode forward), and batch-norm running statistics against PyTorch's update rule.

/// ReLU and max-pool make the tiny network's loss piecewise smooth, so the step must not carry a
/// pre-activation across 0 or swap a max-pool winner. With eps = 1e-3 a step moves a pre-activation by
/// ≲ 1e-3, below the smallest |pre-activation| of this seed's network (3.7e-3); with eps = 1e-2 some conv
/// weights do cross a kink (measured: 10% error on 9 of 54 elements), so 1e-3 it is.
private let graphFD = FiniteDifference(eps: 1e-3)
/// The loss is an O(1) float32 scalar computed through six float32 ops, so it carries ~1e-7 of rounding
/// noise, ≈ 1e-4 on a difference quotient with eps = 1e-3 (measured: 1.2e-4 on conv1.bias, whose true
/// gradient is 0); the truncation error of the smooth parts is ~eps²·|∂³L| ≲ 1e-5. Parameter gradients are
/// O(0.05–1), so 5e-4 absolute + 1e-2 relative passes a correct gradient with margin and fails a missing
/// term or a mis-routed tap.
private let graphTolerance = Tolerance(abs: 5e-4, rel: 1e-2)
/// Running statistics: float32 moments against a Double recomputation (60 values per channel, ~1e-7).
private let statsTolerance = Tolerance(abs: 1e-5, rel: 1e-5)
/// Graphs that are linear in the checked parameter (add, flatten, linear, dropout): as in
/// GradientCheckTests, central differences are exact up to float32 rounding (≲ 1e-5 here).
private let linearGraphTolerance = Tolerance(abs: 1e-3, rel: 1e-3)
/// Where the expected value is the same float32 arithmetic (2r = r + r, r·mask with mask ∈ {0, 2}, the
/// same kernels in the same order), results must be bit-identical.
private let exact = Tolerance(abs: 0, rel: 0)

/// conv(3×3, pad 1, bias) → batch-norm → relu → max-pool 2×2 → flatten → linear → softmax cross-entropy,
/// with PyTorch-style parameter names.
struct TinyNet {
    let graph: Graph
    var parameters: ParameterStore
    let convOutput: ValueID
    let bnOutput: ValueID
    let feeds: [String: Tensor]

    init(batch: Int = 3, momentum: Float = 0.1) throws {
        let b = GraphBuilder(seed: 5)
        let x = b.input("x", shape: [batch, 2, 6, 5])
        let labels = b.input("labels", shape: [batch])
        let conv = try b.scoped("conv1") {
            try x.conv2d(weight: b.parameter("weight", shape: [3, 2, 3, 3], initializer: .normal(std: 0.4)),
                         bias: b.parameter("bias", shape: [3], initializer: .uniform(bound: 0.5)),
                         .init(padding: Pair(1)))
        }
        let bn = try b.scoped("bn1") {
            try conv.batchNorm2d(weight: b.parameter("weight", shape: [3], initializer: .ones),
                                 bias: b.parameter("bias", shape: [3], initializer: .zeros),
                                 runningMean: b.buffer("running_mean", shape: [3], initializer: .zeros),
                                 runningVar: b.buffer("running_var", shape: [3], initializer: .ones),
                                 BatchNormAttributes(momentum: momentum))
        }
        let pooled = try bn.relu().maxPool2d(.init(kernel: Pair(2)))
        let logits = try b.scoped("fc") {
            try pooled.flatten().linear(weight: b.parameter("weight", shape: [4, 18], initializer: .normal(std: 0.3)),
                                        bias: b.parameter("bias", shape: [4], initializer: .uniform(bound: 0.3)))
        }
        let loss = try logits.softmaxCrossEntropy(labels: labels)
        b.markOutputs([loss])
        graph = b.graph
        parameters = b.parameters
        // Batch-norm affine parameters away from their defaults, so their gradients are not special.
        try parameters.set("bn1.weight", TestData.uniform([3], seed: 201, low: 0.5, high: 1.5))
        try parameters.set("bn1.bias", TestData.normal([3], seed: 202, std: 0.5))
        convOutput = conv.id
        bnOutput = bn.id
        feeds = ["x": TestData.normal([batch, 2, 6, 5], seed: 203),
                 "labels": try Tensor(shape: [batch], scalars: (0..<batch).map { Float(($0 * 3 + 1) % 4) })]
    }
}

@Suite("Executor: autograd and running statistics")
struct ExecutorTests {
    let backend = ReferenceBackend()

    @Test func tinyNetworkGradientsMatchFiniteDifferences() throws {
        let net = try TinyNet()
        let executor = Executor(graph: net.graph, backend: backend)
        var params = net.parameters
        var rng = SeededRandom(seed: 1)
        let pass = try executor.forward(feeds: net.feeds, parameters: &params, mode: .training, rng: &rng)
        let grads = try executor.backward(pass)
        #expect(Set(grads.keys) == Set(net.parameters.trainableNames))
        #expect(net.parameters.trainableNames == ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "fc.weight", "fc.bias"])
        // Batch-norm subtracts the batch mean, so a per-channel constant before it (the conv bias) has no
        // effect on the loss: its gradient is zero up to float32 rounding.
        #expect(grads["conv1.bias"]!.scalars.allSatisfy { abs($0) < 1e-5 }, "\(grads["conv1.bias"]!)")

        for name in net.parameters.trainableNames {
            let loss: ([Tensor]) throws -> Double = { t in
                var p = net.parameters
                try p.set(name, t[0])
                var rng = SeededRandom(seed: 1)
                let pass = try executor.forward(feeds: net.feeds, parameters: &p, mode: .training, rng: &rng)
                return Double(pass[net.graph.outputs[0]]!.scalars[0])
            }
            try graphFD.check(loss, at: [net.parameters[name]!], analytic: [grads[name]], wrt: [0], names: [name],
                              graphTolerance, "tiny network")
        }
    }

    @Test func sharedParameterGradientsAccumulate() throws {
        // s = p + q + p → flatten(2) → flatten(1) → linear(r): L = Σ flatten(2p + q)·r, so
        // dL/dp = 2r, dL/dq = r, dL/dr = flatten(2p + q).
        let b = GraphBuilder(seed: 9)
        let p = try b.parameter("p", shape: [1, 2, 3, 4], initializer: .normal(std: 1))
        let q = try b.parameter("q", shape: [1, 2, 3, 4], initializer: .normal(std: 1))
        let r = try b.parameter("r", shape: [1, 24], initializer: .normal(std: 1))
        let s = try (try p + q) + p
        let flat = try s.flatten(startDim: 2)
        #expect(flat.shape == [1, 2, 12])
        let out = try flat.flatten(startDim: 1).linear(weight: r, bias: nil)
        #expect(out.shape == [1, 1])
        b.markOutputs([out])
        let executor = Executor(graph: b.graph, backend: backend)
        var params = b.parameters
        var rng = SeededRandom(seed: 0)
        let grads = try executor.backward(try executor.forward(feeds: [:], parameters: &params, mode: .training, rng: &rng))
        for name in ["p", "q", "r"] {
            let loss: ([Tensor]) throws -> Double = { t in
                var ps = b.parameters
                try ps.set(name, t[0])
                var rng = SeededRandom(seed: 0)
                let pass = try executor.forward(feeds: [:], parameters: &ps, mode: .training, rng: &rng)
                return Double(pass[out.id]!.scalars[0])
            }
            try FiniteDifference(eps: 1e-2).check(loss, at: [b.parameters[name]!], analytic: [grads[name]], wrt: [0],
                                                  names: [name], linearGraphTolerance, "add/flatten graph")
        }
        // Exact values too: the sums are of two or three float32 numbers.
        let rs = b.parameters["r"]!.scalars
        expectClose(grads["p"]!, try Tensor(shape: [1, 2, 3, 4], scalars: rs.map { 2 * $0 }), exact, "dL/dp = 2r")
        expectClose(grads["q"]!, try Tensor(shape: [1, 2, 3, 4], scalars: rs), exact, "dL/dq = r")
    }

    @Test func dropoutGradientIsTheMask() throws {
        let b = GraphBuilder(seed: 3)
        let p = try b.parameter("p", shape: [1, 40], initializer: .normal(std: 1))
        let r = try b.buffer("r", shape: [1, 40], initializer: .normal(std: 1))
        let dropout = try p.dropout(p: 0.5)
        let out = try dropout.linear(weight: r, bias: nil)
        b.markOutputs([out])
        let executor = Executor(graph: b.graph, backend: backend)
        var params = b.parameters
        var rng = SeededRandom(seed: 42)
        let pass = try executor.forward(feeds: [:], parameters: &params, mode: .training, rng: &rng)
        let grad = try executor.backward(pass)["p"]!
        // Each element is dropped (0) or kept and scaled by 1/(1 − p) = 2.
        let dropped = pass[dropout.id]!.scalars
        let expected = zip(dropped, b.parameters["r"]!.scalars).map { d, r in d == 0 ? Float(0) : 2 * r }
        expectClose(grad, try Tensor(shape: [1, 40], scalars: expected), exact, "dropout gradient")
        let kept = dropped.filter { $0 != 0 }.count
        #expect(kept > 5 && kept < 35, "p = 0.5 keeps about half of 40, kept \(kept)")
        // The same seed gives the same mask, so central differences are well defined.
        let loss: ([Tensor]) throws -> Double = { t in
            var ps = b.parameters
            try ps.set("p", t[0])
            var rng = SeededRandom(seed: 42)
            return Double(try executor.forward(feeds: [:], parameters: &ps, mode: .training, rng: &rng)[out.id]!.scalars[0])
        }
        try FiniteDifference(eps: 1e-2).check(loss, at: [b.parameters["p"]!], analytic: [grad], wrt: [0], names: ["p"],
                                              linearGraphTolerance, "dropout")
        // Inference: identity.
        var ps = b.parameters
        let inference = try executor.forward(feeds: [:], parameters: &ps, mode: .inference, rng: &rng)
        expectClose(inference[out.id]!, try backend.linear(b.parameters["p"]!, weight: b.parameters["r"]!, bias: nil),
                    exact, "dropout in inference is the identity")
    }

    @Test(arguments: [Float(0.1), 0.3])
    func batchNormRunningStatisticsFollowPyTorch(momentum: Float) throws {
        // PyTorch: running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance
        // (m/(m − 1)·biased, m = N·H·W) for running_var. Two steps, from non-default running values.
        var net = try TinyNet(batch: 2, momentum: momentum)
        let m0 = TestData.normal([3], seed: 211, std: 0.5), v0 = TestData.uniform([3], seed: 212, low: 0.5, high: 2)
        try net.parameters.set("bn1.running_mean", m0)
        try net.parameters.set("bn1.running_var", v0)
        let executor = Executor(graph: net.graph, backend: backend)
        var params = net.parameters
        var rng = SeededRandom(seed: 1)
        var expectedMean = m0.scalars.map(Double.init), expectedVar = v0.scalars.map(Double.init)
        for step in 0..<2 {
            let x = TestData.normal([2, 2, 6, 5], seed: 220 + UInt64(step), std: 2)
            let pass = try executor.forward(feeds: ["x": x, "labels": net.feeds["labels"]!], parameters: &params,
                                            mode: .training, rng: &rng)
            let y = pass[net.convOutput]!
            let (c, plane) = (y.shape[1], y.shape[2] * y.shape[3])
            let count = Double(y.shape[0] * plane)
            let ys = y.scalars.map(Double.init)
            for ch in 0..<c {
                var values: [Double] = []
                for n in 0..<y.shape[0] {
                    let start = (n * c + ch) * plane
                    values += ys[start..<(start + plane)]
                }
                let mean: Double = values.reduce(0, +) / count
                var squares: Double = 0
                for v in values { squares += (v - mean) * (v - mean) }
                let unbiased = squares / (count - 1)
                expectedMean[ch] = (1 - Double(momentum)) * expectedMean[ch] + Double(momentum) * mean
                expectedVar[ch] = (1 - Double(momentum)) * expectedVar[ch] + Double(momentum) * unbiased
            }
            expectClose(params["bn1.running_mean"]!.scalars.map(Double.init), expectedMean, statsTolerance,
                        "running_mean after step \(step + 1)")
            expectClose(params["bn1.running_var"]!.scalars.map(Double.init), expectedVar, statsTolerance,
                        "running_var after step \(step + 1)")
        }
        // Trainable parameters are untouched by the forward pass.
        for name in net.parameters.trainableNames { #expect(params[name]!.scalars == net.parameters[name]!.scalars) }

        // Inference normalises by the running statistics and leaves them as they are.
        let before = params
        let pass = try executor.forward(feeds: net.feeds, parameters: &params, mode: .inference, rng: &rng)
        #expect(params["bn1.running_mean"]!.scalars == before["bn1.running_mean"]!.scalars)
        #expect(params["bn1.running_var"]!.scalars == before["bn1.running_var"]!.scalars)
        #expect(pass[net.bnOutput] == nil, "inference releases values after their last use")
        let conv = try backend.conv2d(net.feeds["x"]!, weight: params["conv1.weight"]!, bias: params["conv1.bias"]!,
                                      .init(padding: Pair(1)))
        let expected = try backend.batchNormInference(conv, weight: params["bn1.weight"]!, bias: params["bn1.bias"]!,
                                                      mean: params["bn1.running_mean"]!, variance: params["bn1.running_var"]!,
                                                      epsilon: 1e-5)
        let relu = try backend.relu(expected, cap: nil)
        let pooled = try backend.maxPool2d(relu, .init(kernel: Pair(2)))
        let logits = try backend.linear(try pooled.reshaped([pooled.shape[0], 18]), weight: params["fc.weight"]!, bias: params["fc.bias"]!)
        let loss = try SoftmaxCrossEntropy.forward(logits: logits, labels: net.feeds["labels"]!, classWeights: nil).loss
        expectClose(pass[net.graph.outputs[0]]!, loss, exact, "inference loss through running statistics")
    }

    /// A loss computed outside the graph trains through `backward(_:seed:gradient:)`: seeding the logits with
    /// d CE / d logits must give the gradients of backward from the graph's own CE node, bit for bit (the same
    /// tensor enters the same chain of kernels).
    @Test func backwardFromASeededValueMatchesTheGraphsLoss() throws {
        let b = GraphBuilder(seed: 7)
        let x = b.input("x", shape: [4, 5]), labels = b.input("labels", shape: [4])
        let hidden = try b.scoped("fc1") {
            try x.linear(weight: b.parameter("weight", shape: [6, 5], initializer: .normal(std: 0.5)),
                         bias: b.parameter("bias", shape: [6], initializer: .uniform(bound: 0.3)))
        }.relu()
        let logits = try b.scoped("fc2") {
            try hidden.linear(weight: b.parameter("weight", shape: [3, 6], initializer: .normal(std: 0.5)),
                              bias: b.parameter("bias", shape: [3], initializer: .uniform(bound: 0.3)))
        }
        b.markOutputs([logits, try logits.softmaxCrossEntropy(labels: labels)])
        let executor = Executor(graph: b.graph, backend: backend)
        var params = b.parameters
        var rng = SeededRandom(seed: 2)
        let y = try Tensor(shape: [4], scalars: [0, 2, 1, 2])
        let pass = try executor.forward(feeds: ["x": TestData.normal([4, 5], seed: 301), "labels": y], parameters: &params,
                                        mode: .training, rng: &rng)
        let fromLoss = try executor.backward(pass)
        let saved = try SoftmaxCrossEntropy.forward(logits: pass[logits.id]!, labels: y, classWeights: nil).saved
        let fromSeed = try executor.backward(pass, seed: logits.id, gradient: SoftmaxCrossEntropy.backward(saved, gradOut: 1))
        #expect(Set(fromSeed.keys) == Set(fromLoss.keys))
        for (name, g) in fromLoss { expectClose(fromSeed[name]!, g, exact, "d loss / d \(name)") }

        expectEngineError(.shape, op: "backward", mentions: ["[4, 2]", "[4, 3]"]) {
            _ = try executor.backward(pass, seed: logits.id, gradient: Tensor(zeros: [4, 2]))
        }
    }

    @Test func batchNormFixtureThroughExecutor() throws {
        // The PyTorch fixture's training-mode output and updated running statistics, through the executor.
        let file = try FixtureFile.load("batch_norm")
        for c in file.cases {
            let x = try c.tensor("x")
            let b = GraphBuilder()
            let input = b.input("x", shape: x.shape)
            let ch = x.shape[1]
            let y = try b.scoped("bn") {
                try input.batchNorm2d(weight: b.parameter("weight", shape: [ch], initializer: .ones),
                                      bias: b.parameter("bias", shape: [ch], initializer: .zeros),
                                      runningMean: b.buffer("running_mean", shape: [ch], initializer: .zeros),
                                      runningVar: b.buffer("running_var", shape: [ch], initializer: .ones),
                                      BatchNormAttributes(epsilon: Float(c.attributes.epsilon!),
                                                          momentum: Float(c.attributes.momentum!)))
            }
            b.markOutputs([y])
            var params = b.parameters
            for (name, key) in [("bn.weight", "weight"), ("bn.bias", "bias"), ("bn.running_mean", "running_mean"),
                                ("bn.running_var", "running_var")] {
                try params.set(name, try c.tensor(key))
            }
            let executor = Executor(graph: b.graph, backend: backend)
            var rng = SeededRandom(seed: 0)
            let inference = try executor.forward(feeds: ["x": x], parameters: &params, mode: .inference, rng: &rng)
            expectClose(inference[y.id]!, try c.tensor("output_inference"), fixtureTolerance, "\(c.name) inference output (\(file.generator))")
            let pass = try executor.forward(feeds: ["x": x], parameters: &params, mode: .training, rng: &rng)
            expectClose(pass[y.id]!, try c.tensor("output_training"), fixtureTolerance, "\(c.name) training output (\(file.generator))")
            expectClose(params["bn.running_mean"]!, try c.tensor("updated_running_mean"), fixtureTolerance,
                        "\(c.name) running_mean (\(file.generator))")
            expectClose(params["bn.running_var"]!, try c.tensor("updated_running_var"), fixtureTolerance,
                        "\(c.name) running_var (\(file.generator))")
        }
    }
}
