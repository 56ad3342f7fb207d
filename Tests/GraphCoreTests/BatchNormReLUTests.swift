import Testing
@testable import GraphCore
import TestSupport

/// Batch-norm + ReLU fused (oneDNN's `fuse_norm_relu`, on each fast backend) against the two ops composed on
/// `ReferenceBackend`, forward (output, batch statistics) and backward (input, scale and shift gradients); and the
/// executor's training pass with the fusion against the same pass without it.
@Suite("Fused batch-norm + ReLU")
struct BatchNormReLUTests {
    /// O(1) values normalised over 12–2048 per channel: the kernels differ from the reference by summation order,
    /// ~1e-6 (measured worst between oneDNN and the reference on the unfused op: same order); a dropped mask or
    /// a mask shifted by one element is off by O(1).
    static let tolerance = Tolerance(abs: 1e-5, rel: 1e-4)

    /// Channels of no, one and several vector blocks and a tail (3, 16, 64, 70); one image and several.
    @Test(arguments: [[3, 4, 5, 3], [1, 3, 4, 4], [2, 16, 7, 7], [4, 64, 8, 8], [2, 70, 3, 5]])
    func fusedEqualsComposition(_ shape: [Int]) throws {
        let c = shape[1]
        let x = TestData.normal(shape, seed: 11)
        let (w, b) = (TestData.uniform([c], seed: 12, low: 0.5, high: 1.5), TestData.normal([c], seed: 13, std: 0.5))
        let gy = TestData.normal(shape, seed: 14)
        let reference = ReferenceBackend(), eps: Float = 1e-5
        let y0 = try reference.batchNormTraining(x, weight: w, bias: b, epsilon: eps)
        let expected = try reference.relu(y0.output, cap: nil)
        let g0 = try reference.reluBackward(gy, output: expected, cap: nil)
        let grads = try reference.batchNormBackward(g0, x: x, weight: w, mean: y0.mean, variance: y0.variance, epsilon: eps)
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "\(describe(shape)) on \(backend.name), \(layout) input"
                let f = try backend.batchNormReLUTraining(laid(x, layout), weight: w, bias: b, epsilon: eps)
                expectClose(f.output, expected, Self.tolerance, "\(at): output")
                expectClose(f.mean, y0.mean, Self.tolerance, "\(at): mean")
                expectClose(f.variance, y0.variance, Self.tolerance, "\(at): variance")
                let r = try backend.batchNormReLUBackward(laid(gy, layout), x: laid(x, layout), weight: w, mean: f.mean,
                                                          variance: f.variance, mask: f.mask, epsilon: eps)
                expectClose(r.input, grads.input, Self.tolerance, "\(at): grad input")
                expectClose(r.weight, grads.weight, Self.tolerance, "\(at): grad weight")
                expectClose(r.bias, grads.bias, Self.tolerance, "\(at): grad bias")
            }
        }
    }

    /// The tiny network (conv → batch-norm → ReLU → …) trained one pass with and without the fusion on each backend:
    /// same loss, gradients and running statistics within `tolerance` (the fused pass is also checked against
    /// finite differences and the reference by ExecutorTests and ExecutorCrossBackendTests, which fuse by default).
    @Test func executorWithFusionEqualsWithout() throws {
        let net = try TinyNet()
        #expect(net.graph.batchNormReLUPairs().count == 1)
        for backend in fixtureBackends {
            func run(fuse: Bool) throws -> (Tensor, [String: Tensor], ParameterStore) {
                let executor = Executor(graph: net.graph, backend: backend, fuseBatchNormReLU: fuse)
                var params = net.parameters, rng = SeededRandom(seed: 1)
                let pass = try executor.forward(feeds: net.feeds, parameters: &params, mode: .training, rng: &rng)
                return (pass[net.graph.outputs[0]]!, try executor.backward(pass), params)
            }
            let (fl, fg, fp) = try run(fuse: true)
            let (l, g, p) = try run(fuse: false)
            expectClose(fl, l, Self.tolerance, "\(backend.name): loss")
            for name in net.parameters.trainableNames { expectClose(fg[name]!, g[name]!, Self.tolerance, "\(backend.name): gradient of \(name)") }
            for name in net.parameters.bufferNames { expectClose(fp[name]!, p[name]!, Self.tolerance, "\(backend.name): \(name)") }
        }
    }

    /// Only a batch-norm read by one ReLU alone pairs: not one that is also read elsewhere, is an output, or feeds ReLU6.
    @Test func pairsOnlyBatchNormsThatOnlyAReLUReads() throws {
        let b = GraphBuilder(seed: 3)
        let x = b.input("x", shape: [2, 4, 3, 3])
        func bn(_ v: Value, _ name: String) throws -> Value {
            try b.scoped(name) {
                try v.batchNorm2d(weight: b.parameter("weight", shape: [4], initializer: .ones),
                                  bias: b.parameter("bias", shape: [4], initializer: .zeros),
                                  runningMean: b.buffer("running_mean", shape: [4], initializer: .zeros),
                                  runningVar: b.buffer("running_var", shape: [4], initializer: .ones), BatchNormAttributes())
            }
        }
        let paired = try bn(x, "bn1")
        let a = try paired.relu()
        let shared = try bn(a, "bn2")
        let c = try shared.relu() + shared
        let capped = try bn(c, "bn3").relu6()
        let output = try bn(capped, "bn4")
        let last = try output.relu()
        b.markOutputs([last, output])
        #expect(b.graph.batchNormReLUPairs() == [paired.id.index: a.id.index])
    }
}
