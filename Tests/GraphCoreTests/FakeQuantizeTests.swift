import Testing
@testable import GraphCore

/// `fakeQuantize`: ONNX's QuantizeLinear → DequantizeLinear with zero point 0, worked by hand; its
/// straight-through gradient.
@Suite struct FakeQuantizeTests {
    /// `fq(xs)`, and with `gradOut` the gradient of `Σ gradOut · fq(x)` with respect to x (as a parameter
    /// added to a zero input, since only parameters get gradients).
    func run(_ q: QuantizationAttributes, _ xs: [Float], gradOut: [Float]? = nil) throws -> (y: [Float], dx: [Float]?) {
        let n = xs.count
        let b = GraphBuilder()
        let zero = b.input("zero", shape: [1, n])
        let x = try b.parameter("x", shape: [1, n], initializer: .zeros)
        let y = try b.apply(.fakeQuantize(q), [try b.apply(.add, [zero, x])])
        let g = try b.parameter("g", shape: [1, n], initializer: .zeros)
        let loss = try y.linear(weight: g, bias: nil)
        b.markOutputs([y, loss])
        var p = b.parameters, rng = SeededRandom(seed: 0)
        try p.set("x", try Tensor(shape: [1, n], scalars: xs))
        try p.set("g", try Tensor(shape: [1, n], scalars: gradOut ?? Array(repeating: 0, count: n)))
        let executor = Executor(graph: b.graph, backend: ReferenceBackend())
        let pass = try executor.forward(feeds: ["zero": Tensor(zeros: [1, n])], parameters: &p, mode: .training, rng: &rng)
        let dx = gradOut == nil ? nil : try executor.backward(pass, output: loss.id)["x"]?.scalars
        return (pass[y.id]!.scalars, dx)
    }

    @Test func roundsHalfToEvenAndSaturates() throws {
        // scale 0.5: x/scale = 1.25 → 1, 1.5 → 2 (even), 2.5 → 2 (even), −0.75·2 = −1.5 → −2, 300 → 255 (u8), −3 → 0 (u8).
        let u8 = QuantizationAttributes(scale: 0.5, unsigned: true)
        #expect(try run(u8, [0.625, 0.75, 1.25, 200, -1.5]).y == [0.5, 1.0, 1.0, 127.5, 0])
        let s8 = QuantizationAttributes(scale: 0.5, unsigned: false)
        #expect(try run(s8, [-0.75, 63.5, 64, -64, -65]).y == [-1.0, 63.5, 63.5, -64, -64])
    }

    @Test func gradientPassesStraightThroughInsideTheGrid() throws {
        let q = QuantizationAttributes(scale: 0.5, unsigned: false)   // grid [−64, 63.5]
        let r = try run(q, [0.3, -10, 63.5, 63.6, -64.1], gradOut: [1, 2, 3, 4, 5])
        #expect(r.dx == [1, 2, 3, 0, 0])
    }

    @Test func badScaleIsAClearError() {
        #expect(throws: EngineError.self) { try ShapeInference.infer(.fakeQuantize(.init(scale: 0, unsigned: true)), [[3]], name: "q") }
        #expect(throws: EngineError.self) { try ShapeInference.infer(.fakeQuantize(.init(scale: .nan, unsigned: true)), [[3]], name: "q") }
    }
}
