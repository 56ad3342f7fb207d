import Testing
import TestSupport
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime

/// Every registered device's plan compiler computes what the reference compiler (the prepared graph interpreted on
/// `ReferenceBackend`) computes: within 1e-4 of the output's largest magnitude in float32, the bound the runtime's
/// plan tests use (the plans fold batch-norm and reorder float sums; the interpreter does neither differently).
@Suite struct PlanCompilerTests {
    static let models = ["pneumonet", "mobilenetv2", "resnet18"]

    static func model(_ name: String) throws -> (model: ModelGraph, shape: [Int]) {
        guard name == "resnet18" else {
            let (m, shape, _) = try kernelTestModel(name)
            return (m, shape)
        }
        return (try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3), [1, 32, 32])
    }

    @Test(arguments: PlanCompilers.all.map(\.name), models)
    func plansMatchTheReferenceCompiler(compiler: String, model: String) throws {
        let (m, shape) = try Self.model(model)
        var rng = SeededRandom(seed: 17)
        let x = Tensor.randomNormal([2] + shape, using: &rng)
        let request = PlanRequest(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        let plan = try PlanCompilers.named(compiler).compile(request)
        #expect(plan.inputShape == x.shape && plan.outputShape == [2, 2])
        expectClose(try plan.run(x).scalars, try ReferencePlanCompiler().compile(request).run(x).scalars, "\(compiler) plan of \(model)")
    }

    /// A runtime compiles through the compiler it is given; `plan(batch:)` (oneDNN plans) says why it has none.
    @Test func runtimeRunsOnTheReferenceCompiler() throws {
        let (m, shape) = try Self.model("pneumonet")
        let reference = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, compiler: ReferencePlanCompiler())
        let cpu = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, parallelism: .intraOp, convolutions: .direct)
        var rng = SeededRandom(seed: 5)
        let x = Tensor.randomNormal([3] + shape, using: &rng)
        expectClose(try reference.run(x).scalars, try cpu.run(x).scalars, "reference runtime vs oneDNN runtime")
        #expect(try reference.compiledPlan(batch: 3).summary == "reference interpreter")
        #expect(throws: EngineError.unsupported("runtime", "the reference compiler's plans are not oneDNN plans; use compiledPlan(batch:)")) {
            try reference.plan(batch: 3)
        }
    }

    @Test func referencePlansAreFloat32Only() throws {
        let (m, shape) = try Self.model("pneumonet")
        #expect(throws: EngineError.unsupported("runtime", "the reference device computes in float32 only")) {
            try ReferencePlanCompiler().compile(PlanRequest(graph: m.graph, parameters: m.parameters, inputShape: [1] + shape, precision: .bf16))
        }
    }

    @Test func unknownCompilerIsAnError() {
        #expect(throws: EngineError.self) { try PlanCompilers.named("cuda") }
    }
}
