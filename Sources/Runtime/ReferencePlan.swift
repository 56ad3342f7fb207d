import GraphCore
import Optimize

/// Plans that interpret the graph on `ReferenceBackend` (`ReferenceDevice`): slow and obviously correct, float32 only;
/// what the other compilers' plans are tested against. Layout, parallelism and convolution options do not apply.
public struct ReferencePlanCompiler: PlanCompiler {
    public init() {}
    public var name: String { "reference" }
    public func unsupportedReason(_ precision: Precision) -> String? { ReferenceDevice().unsupportedReason(precision) }
    public func compile(_ request: PlanRequest) throws -> any CompiledPlan { try ReferencePlan(request) }
}

/// The prepared inference graph (what every plan compiles: batch-norm folded, dropout gone) run node by node by
/// `Executor` on `ReferenceBackend`. Holds nothing a call writes, so calls may overlap.
public final class ReferencePlan: CompiledPlan {
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var precision: Precision { .fp32 }
    public var summary: String { "reference interpreter" }
    private let graph: Graph
    private let parameters: ParameterStore
    private let inputName: String

    public init(_ request: PlanRequest) throws {
        if let reason = ReferenceDevice().unsupportedReason(request.precision) { throw EngineError.unsupported("runtime", reason) }
        let (g, p) = try InferenceRewrites.prepareForInference(request.graph, request.parameters)
        guard let output = g.outputs.first else { throw EngineError.invalid("runtime", "the graph has no output") }
        guard g.inputID(request.inputName) != nil else { throw EngineError.invalid("runtime", "the graph has no input '\(request.inputName)'") }
        outputShape = try g.inferShapes(inputs: [request.inputName: request.inputShape])[output.index]
        (graph, parameters, inputName, inputShape) = (g, p, request.inputName, request.inputShape)
    }

    public func run(_ input: Tensor) throws -> Tensor {
        guard input.shape == inputShape else {
            throw EngineError.shape("runtime", "the plan was compiled for input \(describe(inputShape)), got \(describe(input.shape))")
        }
        var (p, rng) = (parameters, SeededRandom(seed: 0))
        let pass = try Executor(graph: graph, backend: ReferenceBackend())
            .forward(feeds: [inputName: input], parameters: &p, mode: .inference, rng: &rng)
        guard let y = pass[graph.outputs[0]] else { throw EngineError.invalid("runtime", "the graph's output was not computed") }
        return y.contiguous()
    }
}
