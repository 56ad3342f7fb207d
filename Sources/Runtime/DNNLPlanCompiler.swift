import GraphCore

/// Plans on the CPU through oneDNN and our kernels: `InferencePlan`.
public struct DNNLPlanCompiler: PlanCompiler {
    public init() {}
    public var name: String { "onednn" }
    public func unsupportedReason(_ precision: Precision) -> String? { Precision.unsupportedReason(precision) }

    public func compile(_ r: PlanRequest) throws -> any CompiledPlan {
        try InferencePlan(graph: r.graph, parameters: r.parameters, inputName: r.inputName, inputShape: r.inputShape, layout: r.layout,
                          fuse: r.fuse, precision: r.precision, calibration: r.calibration, int8Weights: r.int8Weights,
                          parallelism: r.parallelism, convolutions: r.convolutions, stepsAlone: [], sharedMemory: r.sharedMemory,
                          sharedWeights: r.sharedWeights)
    }
}

extension InferencePlan: CompiledPlan {}
