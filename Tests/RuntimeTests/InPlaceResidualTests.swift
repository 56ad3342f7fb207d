import Testing
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// `relu(x + conv(x))`: the residual is the convolution's own input. A plan must not accumulate into that
/// buffer while the convolution still reads it (neighbouring pixels), whichever convolution runs it.
@Suite struct InPlaceResidualTests {
    struct SelfResidual: Layer {
        let channels: Int, groups: Int
        func callAsFunction(_ x: Value) throws -> Value {
            let y = try scoped("conv", x) {
                try Conv2d(Conv2dConfig(channels, channels, kernel: 3, padding: 1, groups: groups, initializer: .kaimingNormalFanOut))($0)
            }
            return try (y + x).relu()
        }
    }

    @Test(arguments: [(ConvolutionAlgorithm.direct, 1, 6), (.winograd, 1, 6), (.winograd4x4, 1, 6), (.streaming, 1, 4), (.auto, 16, 6)])
    func convolutionReadingItsResidualAgreesWithTheInterpreter(run: (algorithm: ConvolutionAlgorithm, groups: Int, size: Int)) throws {
        let (c, s) = (16, run.size)
        var m = try ModelGraph(SelfResidual(channels: c, groups: run.groups), inputShape: [1, c, s, s], seed: 4)
        var rng = SeededRandom(seed: 5)
        let x = Tensor.randomNormal([1, c, s, s], using: &rng)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .intraOp,
                                     convolutions: run.algorithm)
        let executor = Executor(graph: m.graph, backend: ReferenceBackend())
        let expected = try executor.forward(feeds: ["image": x], parameters: &m.parameters, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
        expectClose(try plan.run(x).scalars, expected.converted(to: .rowMajor).scalars,
                    "\(run.algorithm) groups \(run.groups), \(plan.implementations.map(\.implementation))")
    }
}
