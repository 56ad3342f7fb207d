import Testing
@testable import CPUBackend
import GraphCore
import Optimize
@testable import Runtime
import TestSupport

// The ops of MobileNetV3 and EfficientNet in compiled plans (`familiesGraph`: every one of them, squeeze-excitation
// and hard-swish included): the plan computes what the interpreter computes on the reference backend, in both
// layouts, fused and not; and the fusions happen (activations as convolution post-ops, x·σ(x) as one swish).
// Tolerance: 1e-4 relative to the output's magnitude (oneDNN's eltwise and reduction kernels and the folded and fused
// convolutions round differently from the reference's loops).
@Suite struct TensorOpPlanTests {
    func interpreted(_ g: Graph, _ p: ParameterStore, _ x: Tensor) throws -> [Float] {
        var (q, rng) = (p, SeededRandom(seed: 0))
        let pass = try Executor(graph: g, backend: ReferenceBackend()).forward(feeds: ["image": x], parameters: &q, mode: .inference, rng: &rng)
        return pass[g.outputs[0]]!.scalars
    }

    @Test(arguments: PlanLayout.allCases, [1, 3])
    func planMatchesInterpreter(layout: PlanLayout, batch: Int) throws {
        let (g, p) = try familiesGraph(batch: 2)
        let x = TestData.normal([batch, 3, 12, 12], seed: 11)
        let expected = try interpreted(g, p, x)
        let (plan, y) = try runTracked(x) { try InferencePlan(graph: g, parameters: p, inputShape: x.shape, layout: layout) }
        expectClose(y.scalars, expected, "families \(layout) batch \(batch)")
        expectClose(try plan.run(x).scalars, expected, "second run (arena reused)")
        let unfused = try InferencePlan(graph: g, parameters: p, inputShape: x.shape, layout: layout, fuse: false)
        expectClose(try unfused.run(x).scalars, expected, "unfused families \(layout) batch \(batch)")
        expectClose(try ReferencePlan(PlanRequest(graph: g, parameters: p, inputShape: x.shape)).run(x).scalars, expected, "reference plan")
    }

    @Test func activationsFuseIntoConvolutionsAndSwishIsOnePass() throws {
        let (g, p) = try familiesGraph(batch: 1)
        let (prepared, _) = try InferenceRewrites.prepareForInference(g, p)
        // The expand conv's x·σ(x) is one swish node; no sigmoid is left but the squeeze-excitation's scale.
        #expect(prepared.nodes.filter { $0.op == .activation(.swish) }.count == 2)
        #expect(prepared.nodes.filter { $0.op == .activation(.sigmoid) }.count == 1)
        let plan = try InferencePlan(graph: g, parameters: p, inputShape: [1, 3, 12, 12])
        let kinds = plan.implementations.map(\.kind)
        // Hard-swish, ReLU, hard-sigmoid, swish and sigmoid after convolutions are post-ops: the one activation step left
        // is the hard-swish after the linear layer.
        #expect(kinds.filter { $0 == .activation }.count == 1, "\(plan.implementations)")
        #expect(kinds.filter { $0 == .convolution }.count == 8)
        // Sub, Div, the two squeeze-excitation products and the attention product: one broadcast binary primitive each.
        let elementwise = plan.implementations.filter { $0.kind == .elementwise }
        #expect(elementwise.count == 5 && elementwise.allSatisfy { !$0.implementation.hasPrefix("reference") }, "\(elementwise)")
        #expect(kinds.contains(.softmax) && kinds.contains(.reduction))
        // The two pads run on the reference (no oneDNN primitive pads); transpose and concat are oneDNN's.
        let moves = plan.implementations.filter { $0.kind == .dataMovement }
        #expect(moves.filter { $0.implementation == "reference:pad" }.count == 2, "\(moves)")
        #expect(moves.count == 4)
    }

    /// A difference whose first operand is the broadcast one has no oneDNN primitive: the reference runs it, in the plan.
    @Test func broadcastFirstOperandRunsOnTheHost() throws {
        let b = GraphBuilder(seed: 2)
        let x = b.input("image", shape: [2, 3, 4, 4])
        let pooled = try x.globalAvgPool()
        b.markOutputs([try pooled.binary(.sub, x)])
        let input = TestData.normal([2, 3, 4, 4], seed: 3)
        let plan = try InferencePlan(graph: b.graph, parameters: b.parameters, inputShape: input.shape)
        #expect(plan.implementations.contains { $0.implementation == "reference:sub" })
        expectClose(try plan.run(input).scalars, try interpreted(b.graph, b.parameters, input), "pool − x")
    }

    /// Rewrites are tested for equality (STYLE §10): the swish rewrite keeps the outputs, and leaves a sigmoid that has
    /// another reader alone.
    @Test func fuseSwishKeepsOutputs() throws {
        let b = GraphBuilder(seed: 4)
        let x = b.input("image", shape: [2, 3, 5, 5])
        let s = try x.sigmoid()
        let swished = try x.binary(.mul, s)
        let kept = try swished.binary(.mul, swished.sigmoid())     // fused
        b.markOutputs([try kept.binary(.add, s)])                   // s has two readers: x·s stays a product
        let (g, p) = InferenceRewrites.fuseSwish(b.graph, b.parameters)
        #expect(g.nodes.filter { $0.op == .activation(.swish) }.count == 1)
        #expect(g.nodes.filter { $0.op == .binary(.mul) }.count == 1)
        let input = TestData.normal([2, 3, 5, 5], seed: 5)
        expectClose(try interpreted(g, p, input), try interpreted(b.graph, b.parameters, input), "after fuseSwish vs before")
    }
}
