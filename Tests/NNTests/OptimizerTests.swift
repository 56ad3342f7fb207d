import Testing
import NN

/// Optimizer updates against values worked out by hand from PyTorch's documented update rules.
@Suite struct OptimizerTests {
    static let tolerance: Float = 1e-6

    func store(_ values: [Float]) throws -> ParameterStore {
        var s = ParameterStore()
        s.declare("w", try Tensor(shape: [values.count], scalars: values), trainable: true)
        return s
    }

    func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= Self.tolerance * max(1, abs($1)) } }

    @Test func adamFirstStepMovesByLearningRate() throws {
        // After one step m̂ = g and v̂ = g², so each weight moves by lr·g/(|g| + ε) ≈ lr·sign(g).
        var p = try store([1, -2])
        var adam = Adam()
        try adam.step(&p, gradients: ["w": try Tensor(shape: [2], scalars: [0.5, -3])], learningRate: 0.1)
        let expected: [Float] = [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 3 / (3 + 1e-8)]
        #expect(close(p["w"]!.scalars, expected))
    }

    @Test func adamL2AndAdamWDecoupledDiffer() throws {
        // Adam adds wd·p to g (0 + 0.1·2 = 0.2) → moves by lr; AdamW first scales p by (1 − lr·wd), then g = 0 leaves it.
        var p1 = try store([2]), p2 = try store([2])
        var adam = Adam(weightDecay: 0.1), adamW = Adam.adamW(weightDecay: 0.1)
        let g = ["w": try Tensor(shape: [1], scalars: [0])]
        try adam.step(&p1, gradients: g, learningRate: 0.01)
        try adamW.step(&p2, gradients: g, learningRate: 0.01)
        let adamExpected: [Float] = [2 - 0.01 * 0.2 / (0.2 + 1e-8)]
        let adamWExpected: [Float] = [2 * (1 - 0.01 * 0.1)]
        #expect(close(p1["w"]!.scalars, adamExpected))
        #expect(close(p2["w"]!.scalars, adamWExpected))
    }

    @Test func sgdMomentumAndNesterov() throws {
        let g = ["w": try Tensor(shape: [1], scalars: [1])]
        var p = try store([0]), plain = SGD(momentum: 0.9)
        try plain.step(&p, gradients: g, learningRate: 0.1)   // buf = 1 → p = −0.1
        try plain.step(&p, gradients: g, learningRate: 0.1)   // buf = 1.9 → p = −0.29
        #expect(close(p["w"]!.scalars, [-0.29]))
        var q = try store([0]), nesterov = SGD(momentum: 0.9, nesterov: true)
        try nesterov.step(&q, gradients: g, learningRate: 0.1) // buf = 1, d = 1 + 0.9 → −0.19
        try nesterov.step(&q, gradients: g, learningRate: 0.1) // buf = 1.9, d = 1 + 1.71 → −0.19 − 0.271
        #expect(close(q["w"]!.scalars, [-0.461]))
    }

    @Test func nonFiniteGradientIsAnError() throws {
        var p = try store([1])
        var adam = Adam()
        #expect(throws: EngineError.self) {
            try adam.step(&p, gradients: ["w": try Tensor(shape: [1], scalars: [.nan])], learningRate: 0.1)
        }
    }

    @Test func schedules() {
        let step = StepLR(base: 3e-4, stepSize: 3)
        #expect(step.learningRate(epoch: 2) == 3e-4)
        #expect(abs(step.learningRate(epoch: 3) - 3e-5) < 1e-10)
        #expect(abs(step.learningRate(epoch: 6) - 3e-6) < 1e-11)
        let cosine = CosineLR(base: 1, period: 10)
        #expect(cosine.learningRate(epoch: 0) == 1)
        #expect(abs(cosine.learningRate(epoch: 5) - 0.5) < 1e-6)
        #expect(abs(cosine.learningRate(epoch: 10)) < 1e-6)
    }
}
