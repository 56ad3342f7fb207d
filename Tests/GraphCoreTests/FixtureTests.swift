import Testing
@testable import GraphCore
import TestSupport

// PyTorch semantics: expected values written by scripts/make_engine_fixtures.py (torch.nn.functional and
// torch.autograd when torch is installed, else its NumPy transcription of PyTorch's documented formulas; each
// file's "generator" says which). Every backend — the reference and each of `fastBackends` — is compared
// element-wise, forward and input gradients, with inputs given in both layouts.

/// The fixtures hold float64 results of float32 inputs; a float32 kernel differs from them by the rounding
/// of sums of O(1) products (measured worst: 4.9e-6, a resize gradient summing ~12 taps per input).
/// 1e-4 absolute + 1e-4 relative admits any summation order a fast kernel might use (20× margin) and still
/// catches a wrong tap, a wrong scale or a wrong padding rule (all O(0.1) or more).
let fixtureTolerance = Tolerance(abs: 1e-4, rel: 1e-4)

/// The reference first, then each fast backend.
let fixtureBackends: [any Backend] = [ReferenceBackend()] + fastBackends

@Suite("PyTorch fixtures")
struct FixtureTests {
    @Test(arguments: ["conv2d", "batch_norm", "max_pool2d", "avg_pool2d", "resize_bilinear", "softmax_cross_entropy",
                      "distillation"])
    func fixtureFilesCarryProvenance(_ name: String) throws {
        let file = try FixtureFile.load(name)
        #expect(file.op == name)
        #expect(file.script == "scripts/make_engine_fixtures.py")
        #expect(file.generator.hasPrefix("torch ") || file.generator.hasPrefix("numpy "), "generator: \(file.generator)")
        #expect(!file.cases.isEmpty)
    }

    @Test(arguments: FixtureFile.caseNames("conv2d"))
    func conv2d(_ name: String) throws {
        let c = try FixtureFile.loadCase("conv2d", name)
        let a = Conv2dAttributes(stride: c.pair(c.attributes.stride, default: 1), padding: c.pair(c.attributes.padding, default: 0),
                                 dilation: c.pair(c.attributes.dilation, default: 1), groups: c.attributes.groups ?? 1)
        let (x, w, b, gy) = (try c.tensor("x"), try c.tensor("weight"), try c.optionalTensor("bias"), try c.tensor("grad_output"))
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "conv2d \(name) on \(backend.name), \(layout) input"
                expectClose(try backend.conv2d(laid(x, layout), weight: w, bias: b, a), try c.tensor("output"), fixtureTolerance, at)
                let g = try backend.conv2dBackward(laid(gy, layout), x: laid(x, layout), weight: w, hasBias: b != nil, a, needInput: true)
                guard let dx = g.input else { Issue.record("\(at): no input gradient"); continue }
                expectClose(dx, try c.tensor("grad_input"), fixtureTolerance, "\(at): grad input")
                expectClose(g.weight, try c.tensor("grad_weight"), fixtureTolerance, "\(at): grad weight")
                if b != nil {
                    guard let db = g.bias else { Issue.record("\(at): no bias gradient"); continue }
                    expectClose(db, try c.tensor("grad_bias"), fixtureTolerance, "\(at): grad bias")
                }
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("batch_norm"))
    func batchNorm(_ name: String) throws {
        let c = try FixtureFile.loadCase("batch_norm", name)
        let epsilon = Float(c.attributes.epsilon!)
        let (x, w, b, gy) = (try c.tensor("x"), try c.tensor("weight"), try c.tensor("bias"), try c.tensor("grad_output"))
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "batch_norm \(name) on \(backend.name), \(layout) input"
                let t = try backend.batchNormTraining(laid(x, layout), weight: w, bias: b, epsilon: epsilon)
                expectClose(t.output, try c.tensor("output_training"), fixtureTolerance, "\(at): training output")
                let g = try backend.batchNormBackward(laid(gy, layout), x: laid(x, layout), weight: w, mean: t.mean,
                                                      variance: t.variance, epsilon: epsilon)
                expectClose(g.input, try c.tensor("grad_input"), fixtureTolerance, "\(at): grad input")
                expectClose(g.weight, try c.tensor("grad_weight"), fixtureTolerance, "\(at): grad weight")
                expectClose(g.bias, try c.tensor("grad_bias"), fixtureTolerance, "\(at): grad bias")
                let y = try backend.batchNormInference(laid(x, layout), weight: w, bias: b, mean: c.tensor("running_mean"),
                                                       variance: c.tensor("running_var"), epsilon: epsilon)
                expectClose(y, try c.tensor("output_inference"), fixtureTolerance, "\(at): inference output")
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("max_pool2d"))
    func maxPool2d(_ name: String) throws {
        let c = try FixtureFile.loadCase("max_pool2d", name)
        let a = poolAttributes(c)
        let (x, gy) = (try c.tensor("x"), try c.tensor("grad_output"))
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "max_pool2d \(name) on \(backend.name), \(layout) input"
                expectClose(try backend.maxPool2d(laid(x, layout), a), try c.tensor("output"), fixtureTolerance, at)
                expectClose(try backend.maxPool2dBackward(laid(gy, layout), x: laid(x, layout), a), try c.tensor("grad_input"),
                            fixtureTolerance, "\(at): grad input")
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("avg_pool2d"))
    func avgPool2d(_ name: String) throws {
        let c = try FixtureFile.loadCase("avg_pool2d", name)
        let a = poolAttributes(c)
        let (x, gy) = (try c.tensor("x"), try c.tensor("grad_output"))
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "avg_pool2d \(name) on \(backend.name), \(layout) input"
                expectClose(try backend.avgPool2d(laid(x, layout), a), try c.tensor("output"), fixtureTolerance, at)
                expectClose(try backend.avgPool2dBackward(laid(gy, layout), inputShape: x.shape, a), try c.tensor("grad_input"),
                            fixtureTolerance, "\(at): grad input")
                if a.kernel == Pair(x.shape[2], x.shape[3]) {
                    expectClose(try backend.globalAvgPool(laid(x, layout)), try c.tensor("output"), fixtureTolerance,
                                "\(at): global average pool")
                }
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("resize_bilinear"))
    func resizeBilinear(_ name: String) throws {
        let c = try FixtureFile.loadCase("resize_bilinear", name)
        let size = c.attributes.size!
        let (x, gy) = (try c.tensor("x"), try c.tensor("grad_output"))
        for backend in fixtureBackends {
            for layout in layouts {
                let at = "resize_bilinear \(name) on \(backend.name), \(layout) input"
                expectClose(try backend.resizeBilinear(laid(x, layout), height: size[0], width: size[1]), try c.tensor("output"),
                            fixtureTolerance, at)
                expectClose(try backend.resizeBilinearBackward(laid(gy, layout), inputShape: x.shape), try c.tensor("grad_input"),
                            fixtureTolerance, "\(at): grad input")
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("softmax_cross_entropy"))
    func softmaxCrossEntropy(_ name: String) throws {
        // Shared by every backend (SoftmaxCrossEntropy is plain Swift), so checked once.
        let c = try FixtureFile.loadCase("softmax_cross_entropy", name)
        let weights = try c.optionalTensor("class_weights")?.scalars
        let (loss, saved) = try SoftmaxCrossEntropy.forward(logits: c.tensor("logits"), labels: c.tensor("labels"),
                                                            classWeights: weights)
        expectClose(loss, try c.tensor("loss"), fixtureTolerance, "cross_entropy \(name): loss")
        let g = try SoftmaxCrossEntropy.backward(saved, gradOut: c.tensor("grad_loss").scalars[0])
        expectClose(g, try c.tensor("grad_logits"), fixtureTolerance, "cross_entropy \(name): grad logits")
    }

    @Test(arguments: FixtureFile.caseNames("distillation"))
    func distillation(_ name: String) throws {
        // Plain Swift like the cross-entropy above, so checked once. The fixture's loss is PyTorch's
        // α·T²·kl_div(log_softmax(s/T), softmax(t/T), "batchmean") + (1 − α)·cross_entropy(s, y, weight=w).
        let c = try FixtureFile.loadCase("distillation", name)
        let (loss, saved) = try DistillationLoss.forward(student: c.tensor("student"), teacher: c.tensor("teacher"),
                                                         labels: c.tensor("labels"), temperature: Float(c.attributes.temperature!),
                                                         alpha: Float(c.attributes.alpha!),
                                                         classWeights: try c.optionalTensor("class_weights")?.scalars)
        expectClose(loss, try c.tensor("loss"), fixtureTolerance, "distillation \(name): loss")
        let g = try DistillationLoss.backward(saved, gradOut: c.tensor("grad_loss").scalars[0])
        expectClose(g, try c.tensor("grad_student"), fixtureTolerance, "distillation \(name): grad student")
    }

    private func poolAttributes(_ c: FixtureFile.Case) -> Pool2dAttributes {
        Pool2dAttributes(kernel: c.pair(c.attributes.kernel, default: 1), stride: c.pair(c.attributes.stride, default: 1),
                         padding: c.pair(c.attributes.padding, default: 0))
    }
}
