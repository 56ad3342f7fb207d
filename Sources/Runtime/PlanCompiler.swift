import CPUBackend
import GraphCore

/// What a plan is compiled for: a graph and its parameters, its input (name and whole shape, batch first), and how
/// the plan computes. Compilers take the options their device has (the reference one takes none but float32).
public struct PlanRequest: Sendable {
    public var graph: Graph
    public var parameters: ParameterStore
    public var inputName: String
    /// `[N, C, H, W]`.
    public var inputShape: [Int]
    public var layout: PlanLayout
    public var precision: Precision
    /// Activation ranges for an INT8 plan of a float model (measured on the same `graph`).
    public var calibration: Int8Calibration?
    /// How an INT8 plan stores weights (nil: the range this CPU keeps exact).
    public var int8Weights: Int8WeightRange?
    public var parallelism: PlanParallelism
    public var convolutions: ConvolutionAlgorithm
    /// Whether the plan fuses (activations and residual adds into convolutions, separable pairs, the pool+linear head);
    /// off only to measure what fusion brings (`bench infer --no-fusion`).
    public var fuse: Bool
    /// The runtime's memory and laid-out weights, which its plans share; nil for the plan's own.
    var sharedMemory: SharedPlanMemory? = nil
    var sharedWeights: WeightCache? = nil

    public init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int], layout: PlanLayout = .channelsLast,
                precision: Precision = .fp32, calibration: Int8Calibration? = nil, int8Weights: Int8WeightRange? = nil,
                parallelism: PlanParallelism = .intraOp, convolutions: ConvolutionAlgorithm = .direct, fuse: Bool = true) {
        (self.graph, self.parameters, self.inputName, self.inputShape) = (graph, parameters, inputName, inputShape)
        (self.layout, self.precision, self.calibration, self.int8Weights) = (layout, precision, calibration, int8Weights)
        (self.parallelism, self.convolutions) = (parallelism, convolutions)
        self.fuse = fuse
    }
}

/// A model compiled for one input shape. Immutable: `run` may be called from many threads at once.
public protocol CompiledPlan: AnyObject, Sendable {
    var inputShape: [Int] { get }
    /// The first graph output's shape.
    var outputShape: [Int] { get }
    var precision: Precision { get }
    /// How calls run, in words, for reports.
    var summary: String { get }
    /// Runs the model on `input` (`inputShape`, any layout); returns the first graph output, row-major.
    func run(_ input: Tensor) throws -> Tensor
}

/// Compiles graphs into plans for one device: `Runtime` compiles through it, one plan per batch size.
public protocol PlanCompiler: Sendable {
    /// The device's backend name, as `--backend` spells it ("onednn", "reference").
    var name: String { get }
    /// Why this compiler's plans cannot compute in `precision` (nil when they can).
    func unsupportedReason(_ precision: Precision) -> String?
    func compile(_ request: PlanRequest) throws -> any CompiledPlan
}

extension PlanCompiler {
    /// A model's own precision here: INT8 for a quantized model (`fakeQuantize` nodes) where this compiler's plans run
    /// INT8, float32 otherwise (which computes the same rounding).
    public func nativePrecision(for graph: Graph) -> Precision {
        Int8Quantization.isQuantized(graph) && unsupportedReason(.int8) == nil ? .int8 : .fp32
    }
}

/// The plan compiler of every device this build runs on (`Devices`). A new device adds one line to `byBackend`.
public enum PlanCompilers {
    private static let byBackend: [String: any PlanCompiler] = ["onednn": DNNLPlanCompiler(), "reference": ReferencePlanCompiler()]

    /// The compiler for `device`'s backend (nil for a device without one).
    public static func compiler(for device: any Device) -> (any PlanCompiler)? { byBackend[device.backend.name] }

    /// One per device of `Devices.all`, fastest first.
    public static var all: [any PlanCompiler] { Devices.all.compactMap(compiler(for:)) }

    /// The compiler called `name`, with an error that lists those here.
    public static func named(_ name: String) throws -> any PlanCompiler {
        if let c = all.first(where: { $0.name == name }) { return c }
        throw EngineError.unsupported("runtime", "no plan compiler '\(name)' here; there are: \(all.map(\.name).joined(separator: ", "))")
    }
}
