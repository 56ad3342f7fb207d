import Foundation
import Testing
@testable import GraphCore
import TestSupport

// Central-difference checks of every backward in ReferenceBackend. Each check uses the scalar loss
// L = Σ op(inputs)·R with a fixed random R and runs the backward with gradOut = R, so what is compared is the
// full vector-Jacobian product, element by element (FiniteDifference samples at most 160 positions of a
// larger tensor, evenly spaced, first and last included).

/// Ops linear in each checked input (conv2d, linear, pooling, resize, add): a central difference has no
/// truncation error, only float32 rounding of the perturbed outputs, about √(affected outputs)·2⁻²⁴·|y|·|R|
/// / (2·eps) ≲ 1e-4 with these shapes (measured worst: 1.6e-4 on a grouped conv's weight gradient, typically
/// 1e-5). 1e-3 absolute + 1e-3 relative leaves a 6× margin and still flags any wrong or missing tap (each
/// contributes O(0.1–1); CheckerSelfTests shows a 1% error in one element is caught).
private let linearTolerance = Tolerance(abs: 1e-3, rel: 1e-3)
/// eps for the linear ops: large enough that float32 rounding of x ± eps costs little.
private let linearFD = FiniteDifference(eps: 1e-2)

/// Batch-norm is smooth but not linear: truncation error ~ eps²·|∂³L| plus the rounding above over a whole
/// channel (measured worst 1.4e-4 absolute, on dx). 1e-3 absolute + 1e-3 relative: a 7× margin, while a
/// missing mean or variance term in dx errs by |γ/σ·mean(g)| = O(0.1).
private let batchNormTolerance = Tolerance(abs: 1e-3, rel: 1e-3)
private let batchNormFD = FiniteDifference(eps: 1e-2)

/// Piecewise-linear ops (ReLU, ReLU6, max-pool) are linear away from their kinks; inputs stay ≥ 0.05 from
/// every kink (and max-pool inputs are 0.05 apart), more than the step eps = 1e-2, so they are as exact
/// as the linear ops (measured worst 4.5e-7).
private let piecewiseTolerance = Tolerance(abs: 1e-3, rel: 1e-3)

/// Softmax cross-entropy is smooth with |∂³L| ≲ 1: truncation ≲ eps²/6 ≈ 2e-5; the loss is rounded to
/// float32 once (≈ 1e-7 / 2eps ≈ 5e-6); measured worst 2.1e-6. Gradients are O(1/N) ≈ 0.1, so 1e-4 +
/// 1e-3 relative is tight.
private let crossEntropyTolerance = Tolerance(abs: 1e-4, rel: 1e-3)
/// Distillation is as smooth: its soft term's third derivative is α·T²·O(1/T³) ≤ α·O(1/T), no larger than
/// the cross-entropy's, and its value is rounded to float32 once; the same tolerance applies.
private let distillationTolerance = crossEntropyTolerance

struct DistillationCase: Sendable, CustomTestStringConvertible {
    var temperature: Float
    var alpha: Float
    var weighted: Bool
    var testDescription: String { "T \(temperature), α \(alpha)\(weighted ? ", class weights" : "")" }
}

private let backend = ReferenceBackend()

struct ConvCase: Sendable, CustomTestStringConvertible {
    var name: String
    var x: [Int]
    var weight: [Int]
    var bias: Bool
    var attributes: Conv2dAttributes
    var testDescription: String { name }
}

let convGradientCases: [ConvCase] = [
    ConvCase(name: "3x3 stride 1 pad 1, bias, batch 1, 7×5", x: [1, 2, 7, 5], weight: [3, 2, 3, 3], bias: true,
             attributes: .init(padding: Pair(1))),
    ConvCase(name: "3x3 stride 2 pad 1, no bias, batch 3, 7×5", x: [3, 2, 7, 5], weight: [2, 2, 3, 3], bias: false,
             attributes: .init(stride: Pair(2), padding: Pair(1))),
    ConvCase(name: "3x3 dilation 2 pad 2, bias", x: [1, 2, 7, 6], weight: [2, 2, 3, 3], bias: true,
             attributes: .init(padding: Pair(2), dilation: Pair(2))),
    ConvCase(name: "groups 2, bias, batch 3", x: [3, 4, 5, 4], weight: [4, 2, 3, 3], bias: true,
             attributes: .init(padding: Pair(1), groups: 2)),
    ConvCase(name: "depthwise groups == C, stride 2, bias", x: [1, 3, 7, 5], weight: [3, 1, 3, 3], bias: true,
             attributes: .init(stride: Pair(2), padding: Pair(1), groups: 3)),
    ConvCase(name: "depthwise multiplier 2, no bias", x: [1, 2, 5, 5], weight: [4, 1, 3, 3], bias: false,
             attributes: .init(padding: Pair(1), groups: 2)),
    ConvCase(name: "1x1 stride 2, no padding", x: [3, 3, 5, 5], weight: [2, 3, 1, 1], bias: true,
             attributes: .init(stride: Pair(2))),
    ConvCase(name: "3x2 kernel, stride (2,1), pad (1,0), dilation (1,2)", x: [1, 2, 7, 6], weight: [2, 2, 3, 2],
             bias: true, attributes: .init(stride: Pair(2, 1), padding: Pair(1, 0), dilation: Pair(1, 2))),
]

struct PoolCase: Sendable, CustomTestStringConvertible {
    var name: String
    var x: [Int]
    var attributes: Pool2dAttributes
    var testDescription: String { name }
}

let poolGradientCases: [PoolCase] = [
    PoolCase(name: "3x3 stride 2 pad 1 (ResNet stem), 9×7", x: [1, 2, 9, 7],
             attributes: .init(kernel: Pair(3), stride: Pair(2), padding: Pair(1))),
    PoolCase(name: "2x2 stride 2, odd 7×5, batch 2", x: [2, 2, 7, 5], attributes: .init(kernel: Pair(2))),
    PoolCase(name: "3x3 stride 1 overlapping", x: [1, 2, 5, 6], attributes: .init(kernel: Pair(3), stride: Pair(1))),
    PoolCase(name: "3x2 kernel, stride (2,1), pad (1,0)", x: [1, 2, 7, 5],
             attributes: .init(kernel: Pair(3, 2), stride: Pair(2, 1), padding: Pair(1, 0))),
]

struct ResizeCase: Sendable, CustomTestStringConvertible {
    var x: [Int]
    var height: Int
    var width: Int
    var testDescription: String { "\(describe(x)) → \(height)×\(width)" }
}

let resizeGradientCases: [ResizeCase] = [
    ResizeCase(x: [1, 2, 5, 5], height: 7, width: 7),      // up, non-integer ratio 7/5
    ResizeCase(x: [2, 1, 9, 9], height: 4, width: 4),      // down 9 → 4
    ResizeCase(x: [1, 2, 4, 6], height: 7, width: 3),      // up one axis, down the other
    ResizeCase(x: [1, 1, 64, 2], height: 224, width: 3),   // 64 → 224 (ratio 3.5) on a narrow plane
    ResizeCase(x: [1, 1, 8, 8], height: 28, width: 28),    // 8 → 28
    ResizeCase(x: [1, 2, 1, 2], height: 3, width: 5),      // a single source row: every tap clamps
]

@Suite("Finite-difference gradients of ReferenceBackend")
struct GradientCheckTests {
    @Test(arguments: convGradientCases)
    func conv2d(_ c: ConvCase) throws {
        let x = TestData.normal(c.x, seed: 11)
        let w = TestData.normal(c.weight, seed: 12, std: 0.5)
        let b = c.bias ? TestData.normal([c.weight[0]], seed: 13) : nil
        let y = try backend.conv2d(x, weight: w, bias: b, c.attributes)
        let r = TestData.normal(y.shape, seed: 14)
        let g = try backend.conv2dBackward(r, x: x, weight: w, hasBias: c.bias, c.attributes, needInput: true)
        let inputs = [x, w] + (b.map { [$0] } ?? [])
        try linearFD.check({ t in dot(try backend.conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, c.attributes), r) },
                           at: inputs, analytic: [g.input, g.weight, g.bias], wrt: Array(inputs.indices),
                           names: ["x", "weight", "bias"], linearTolerance, "conv2d \(c.name)")
        if !c.bias { #expect(g.bias == nil, "no bias, no bias gradient") }

        // needInput: false skips the input gradient and leaves the others unchanged.
        let h = try backend.conv2dBackward(r, x: x, weight: w, hasBias: c.bias, c.attributes, needInput: false)
        #expect(h.input == nil)
        #expect(h.weight.scalars == g.weight.scalars)
    }

    @Test(arguments: [[3, 2, 5, 3], [1, 3, 4, 5]])
    func batchNormTraining(_ shape: [Int]) throws {
        let c = shape[1]
        let x = try backend.add(TestData.normal(shape, seed: 21, std: 1.5), Tensor(repeating: 0.7, shape: shape))
        let gamma = TestData.uniform([c], seed: 22, low: 0.5, high: 1.5)
        let beta = TestData.normal([c], seed: 23)
        let epsilon: Float = 1e-5
        let forward = try backend.batchNormTraining(x, weight: gamma, bias: beta, epsilon: epsilon)
        let r = TestData.normal(shape, seed: 24)
        let g = try backend.batchNormBackward(r, x: x, weight: gamma, mean: forward.mean, variance: forward.variance,
                                              epsilon: epsilon)
        try batchNormFD.check({ t in dot(try backend.batchNormTraining(t[0], weight: t[1], bias: t[2], epsilon: epsilon).output, r) },
                              at: [x, gamma, beta], analytic: [g.input, g.weight, g.bias], wrt: [0, 1, 2],
                              names: ["x", "gamma", "beta"], batchNormTolerance, "batch_norm2d training \(describe(shape))")
    }

    @Test(arguments: [Float?.none, 6])
    func relu(cap: Float?) throws {
        let shape = [2, 3, 4, 5]
        let x = TestData.awayFromKinks(shape, seed: 31, low: -3, high: 9, kinks: [0, 6], margin: 0.05)
        let y = try backend.relu(x, cap: cap)
        let r = TestData.normal(shape, seed: 32)
        let g = try backend.reluBackward(r, output: y, cap: cap)
        try linearFD.check({ t in dot(try backend.relu(t[0], cap: cap), r) }, at: [x], analytic: [g], wrt: [0],
                           names: ["x"], piecewiseTolerance, cap == nil ? "relu" : "relu6")
    }

    @Test(arguments: poolGradientCases)
    func maxPool2d(_ c: PoolCase) throws {
        let x = TestData.distinct(c.x, seed: 41)
        let y = try backend.maxPool2d(x, c.attributes)
        let r = TestData.normal(y.shape, seed: 42)
        let g = try backend.maxPool2dBackward(r, x: x, c.attributes)
        try linearFD.check({ t in dot(try backend.maxPool2d(t[0], c.attributes), r) }, at: [x], analytic: [g], wrt: [0],
                           names: ["x"], piecewiseTolerance, "max_pool2d \(c.name)")
    }

    @Test(arguments: poolGradientCases + [
        PoolCase(name: "3x3 stride 1 pad 1 (padding counted)", x: [1, 2, 5, 4],
                 attributes: .init(kernel: Pair(3), stride: Pair(1), padding: Pair(1))),
    ])
    func avgPool2d(_ c: PoolCase) throws {
        let x = TestData.normal(c.x, seed: 51)
        let y = try backend.avgPool2d(x, c.attributes)
        let r = TestData.normal(y.shape, seed: 52)
        let g = try backend.avgPool2dBackward(r, inputShape: x.shape, c.attributes)
        try linearFD.check({ t in dot(try backend.avgPool2d(t[0], c.attributes), r) }, at: [x], analytic: [g], wrt: [0],
                           names: ["x"], linearTolerance, "avg_pool2d \(c.name)")
    }

    @Test(arguments: [[2, 3, 5, 7], [1, 2, 1, 1]])
    func globalAvgPool(_ shape: [Int]) throws {
        let x = TestData.normal(shape, seed: 61)
        let y = try backend.globalAvgPool(x)
        #expect(y.shape == [shape[0], shape[1], 1, 1])
        let r = TestData.normal(y.shape, seed: 62)
        // The executor differentiates global pooling as average pooling over the whole plane.
        let g = try backend.avgPool2dBackward(r, inputShape: shape, Pool2dAttributes(kernel: Pair(shape[2], shape[3])))
        try linearFD.check({ t in dot(try backend.globalAvgPool(t[0]), r) }, at: [x], analytic: [g], wrt: [0],
                           names: ["x"], linearTolerance, "global_avg_pool \(describe(shape))")
    }

    @Test(arguments: [(1, true), (3, true), (3, false)])
    func linear(batch: Int, hasBias: Bool) throws {
        let x = TestData.normal([batch, 5], seed: 71)
        let w = TestData.normal([4, 5], seed: 72, std: 0.5)
        let b = hasBias ? TestData.normal([4], seed: 73) : nil
        let y = try backend.linear(x, weight: w, bias: b)
        let r = TestData.normal(y.shape, seed: 74)
        let g = try backend.linearBackward(r, x: x, weight: w, hasBias: hasBias)
        let inputs = [x, w] + (b.map { [$0] } ?? [])
        try linearFD.check({ t in dot(try backend.linear(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil), r) },
                           at: inputs, analytic: [g.input, g.weight, g.bias], wrt: Array(inputs.indices),
                           names: ["x", "weight", "bias"], linearTolerance, "linear batch \(batch) bias \(hasBias)")
    }

    @Test func addAndMultiply() throws {
        // add and multiply have no backward of their own (the executor routes gradOut, or gradOut·mask);
        // check their forward derivatives: ∂(a + b)/∂a = ∂/∂b = R, ∂(a·b)/∂a = R·b.
        let a = TestData.normal([2, 3, 4], seed: 81), b = TestData.normal([2, 3, 4], seed: 82)
        let r = TestData.normal([2, 3, 4], seed: 83)
        try linearFD.check({ t in dot(try backend.add(t[0], t[1]), r) }, at: [a, b], analytic: [r, r], wrt: [0, 1],
                           names: ["a", "b"], linearTolerance, "add")
        try linearFD.check({ t in dot(try backend.multiply(t[0], t[1]), r) }, at: [a, b],
                           analytic: [try backend.multiply(r, b), try backend.multiply(r, a)], wrt: [0, 1],
                           names: ["a", "b"], linearTolerance, "multiply")
    }

    @Test(arguments: resizeGradientCases)
    func resizeBilinear(_ c: ResizeCase) throws {
        let x = TestData.normal(c.x, seed: 91)
        let y = try backend.resizeBilinear(x, height: c.height, width: c.width)
        #expect(y.shape == [c.x[0], c.x[1], c.height, c.width])
        let r = TestData.normal(y.shape, seed: 92)
        let g = try backend.resizeBilinearBackward(r, inputShape: c.x)
        try linearFD.check({ t in dot(try backend.resizeBilinear(t[0], height: c.height, width: c.width), r) },
                           at: [x], analytic: [g], wrt: [0], names: ["x"], linearTolerance,
                           "resize_bilinear \(c.testDescription)")
    }

    @Test(arguments: [false, true])
    func softmaxCrossEntropy(weighted: Bool) throws {
        let (n, k) = (5, 4)
        let logits = TestData.normal([n, k], seed: 101, std: 2)
        let labels = try Tensor(shape: [n], scalars: [2, 0, 3, 3, 1])
        let weights: [Float]? = weighted ? [0.5, 2, 1, 3] : nil
        let r: Float = 0.8  // the upstream gradient of the scalar loss
        let saved = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, classWeights: weights).saved
        let g = try SoftmaxCrossEntropy.backward(saved, gradOut: r)
        let loss: ([Tensor]) throws -> Double = { t in
            Double(try SoftmaxCrossEntropy.forward(logits: t[0], labels: labels, classWeights: weights).loss.scalars[0]) * Double(r)
        }
        try FiniteDifference(eps: 1e-2).check(loss, at: [logits], analytic: [g], wrt: [0], names: ["logits"],
                                              crossEntropyTolerance, "softmax_cross_entropy weighted \(weighted)")
    }
}

extension GradientCheckTests {
    @Test(arguments: [DistillationCase(temperature: 4, alpha: 0.7, weighted: false),
                      DistillationCase(temperature: 2, alpha: 0.5, weighted: true),
                      DistillationCase(temperature: 1, alpha: 1, weighted: false),
                      DistillationCase(temperature: 8, alpha: 0.2, weighted: false)])
    func distillation(_ c: DistillationCase) throws {
        let (n, k) = (6, 3)
        let student = TestData.normal([n, k], seed: 121, std: 2)
        let teacher = TestData.normal([n, k], seed: 122, std: 3)
        let labels = try Tensor(shape: [n], scalars: [2, 0, 1, 1, 0, 2])
        let weights: [Float]? = c.weighted ? [0.5, 2, 1] : nil
        let r: Float = 0.8
        let saved = try DistillationLoss.forward(student: student, teacher: teacher, labels: labels, temperature: c.temperature,
                                                 alpha: c.alpha, classWeights: weights).saved
        let g = try DistillationLoss.backward(saved, gradOut: r)
        let loss: ([Tensor]) throws -> Double = { t in
            Double(try DistillationLoss.forward(student: t[0], teacher: teacher, labels: labels, temperature: c.temperature,
                                                alpha: c.alpha, classWeights: weights).loss.scalars[0]) * Double(r)
        }
        try FiniteDifference(eps: 1e-2).check(loss, at: [student], analytic: [g], wrt: [0], names: ["student logits"],
                                              distillationTolerance, "distillation \(c.testDescription)")
    }

    /// Closed forms: a teacher equal to the student contributes nothing (KL(q ‖ q) = 0 and q − p = 0), so
    /// the loss and gradient are (1 − α) times the cross-entropy's; α = 0 is the cross-entropy exactly.
    @Test(arguments: [Float(0), 0.3, 1])
    func distillationFromItselfIsScaledCrossEntropy(alpha: Float) throws {
        let logits = TestData.normal([5, 4], seed: 131, std: 2)
        let labels = try Tensor(shape: [5], scalars: [3, 0, 1, 2, 0])
        let (ce, ceSaved) = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, classWeights: [1, 2, 0.5, 1])
        let (kd, kdSaved) = try DistillationLoss.forward(student: logits, teacher: logits, labels: labels, temperature: 3,
                                                         alpha: alpha, classWeights: [1, 2, 0.5, 1])
        let ceGrad = try SoftmaxCrossEntropy.backward(ceSaved, gradOut: 1)
        let kdGrad = try DistillationLoss.backward(kdSaved, gradOut: 1)
        // KL(q ‖ q) sums p·(log p − log q) with both logs from the same float32 row: exactly 0 in Double.
        let tolerance = alpha == 0 ? Tolerance(abs: 0, rel: 0) : Tolerance(abs: 1e-7, rel: 1e-6)
        expectClose([Double(kd.scalars[0])], [Double(1 - alpha) * Double(ce.scalars[0])], tolerance, "loss, α \(alpha)")
        expectClose(kdGrad.scalars.map(Double.init), ceGrad.scalars.map { Double(1 - alpha) * Double($0) }, tolerance,
                    "gradient, α \(alpha)")
    }

    /// A hand-computed case: two classes, one row, T = 2, α = 1 (soft term only). Student logits (0, 0) give
    /// q = (½, ½); teacher logits (2 ln 3, 0) give p = softmax(ln 3, 0) = (¾, ¼). Then
    /// KL = ¾·ln(¾/½) + ¼·ln(¼/½) = ¾·ln 1.5 − ¼·ln 2, loss = T²·KL = 3·ln 1.5 − ln 2 ≈ 0.5232481,
    /// and d loss/d s = T·(q − p) = 2·(−¼, ¼) = (−½, ½).
    @Test func distillationHandComputed() throws {
        let (loss, saved) = try DistillationLoss.forward(student: Tensor(shape: [1, 2], scalars: [0, 0]),
                                                         teacher: Tensor(shape: [1, 2], scalars: [2 * Float(log(3.0)), 0]),
                                                         labels: Tensor(shape: [1], scalars: [1]), temperature: 2, alpha: 1)
        // float32 rounding of 2·ln 3 moves p by ~1e-7; 1e-6 is ample and far below any wrong term (≥ 0.1).
        let tolerance = Tolerance(abs: 1e-6, rel: 1e-6)
        expectClose([Double(loss.scalars[0])], [3 * log(1.5) - log(2.0)], tolerance, "loss")
        expectClose(try DistillationLoss.backward(saved, gradOut: 1).scalars.map(Double.init), [-0.5, 0.5], tolerance, "gradient")
    }
}

@Suite("The checkers themselves")
struct CheckerSelfTests {
    /// A gradient wrong by 1% in a single element must be reported: the tolerances above are not so loose
    /// that they hide a slightly wrong tap.
    @Test func finiteDifferenceFlagsASingleWrongElement() throws {
        let x = TestData.normal([1, 2, 5, 4], seed: 111)
        let r = TestData.normal([1, 2, 7, 7], seed: 112)
        var g = try backend.resizeBilinearBackward(r, inputShape: x.shape)
        g.withUnsafeMutableBufferPointer { $0[17] *= 1.01; $0[17] += 0.01 }
        withKnownIssue("the corrupted element must be flagged") {
            try linearFD.check({ t in dot(try backend.resizeBilinear(t[0], height: 7, width: 7), r) }, at: [x],
                               analytic: [g], wrt: [0], names: ["x"], linearTolerance, "corrupted resize gradient")
        }
    }

    @Test func expectCloseFlagsShapeAndValueMismatches() throws {
        let a = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        withKnownIssue { expectClose(a, try! a.reshaped([4]), Tolerance(abs: 0, rel: 0), "shape") }
        withKnownIssue { expectClose(a, try! Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.01]), Tolerance(abs: 1e-3, rel: 1e-3), "value") }
        withKnownIssue { expectClose([Double.nan], [1], Tolerance(abs: 1, rel: 1), "NaN") }
        expectClose(a, a.converted(to: .rowMajor), Tolerance(abs: 0, rel: 0), "identical")
    }

    /// The comparison relative to the largest magnitude flags a NaN anywhere (`max()` of the differences alone
    /// skips one after the first element), a count mismatch, and a difference past the bound.
    @Test func scaledExpectCloseFlagsNaNCountAndExcess() {
        withKnownIssue { expectClose([1, .nan, 3], [1, 2, 3] as [Float], "NaN after the first element") }
        withKnownIssue { expectClose([1, 2], [1, 2, 3] as [Float], "count") }
        withKnownIssue { expectClose([1, 2.01], [1, 2] as [Float], "excess", tolerance: 1e-3) }
        expectClose([1, 2.0001], [1, 2] as [Float], "within 1e-4 of the largest magnitude", tolerance: 1e-4)
    }
}
