import CPUBackend
import GraphCore
import Foundation
import Synchronization

/// A model ready to serve: compiles a plan per batch size on first use, through its device's `PlanCompiler` (oneDNN's
/// `InferencePlan` by default), and caches it.
///
/// Safe to call from many threads at once. Plans are immutable and shared; each call runs in an execution context of
/// its own from the plan's pool. A batch size is compiled once, by its first caller, while the others asking for it
/// wait; calls of sizes already compiled never wait for a compilation. Compilations run one at a time (their timing
/// races would otherwise measure each other).
///
/// An INT8 runtime with a `BoundaryCheck` (`checking(_:reference:)`) reruns in float32 the images of each call
/// whose INT8 logits lie near the decision boundary.
public final class Runtime: Sendable {
    public let graph: Graph
    public let parameters: ParameterStore
    public let inputName: String
    /// The input's shape without the batch dimension.
    public let sampleShape: [Int]
    public let layout: PlanLayout
    public let precision: Precision
    /// How INT8 plans store weights (nil: the range this CPU keeps exact, `CPUDevice.int8WeightRange`).
    public let int8Weights: Int8WeightRange?
    /// How each batch size's plan uses the threads (`.auto`: timed when the plan is compiled).
    public let parallelism: PlanParallelism
    /// How fp32 plans compute 3×3 stride-1 convolutions (`.auto`: direct or Winograd per shape, timed when
    /// a plan is compiled; `.direct` turns Winograd off).
    public let convolutions: ConvolutionAlgorithm
    /// Whether plans fuse (`PlanRequest.fuse`).
    public let fuse: Bool
    /// What compiles the plans.
    public let compiler: any PlanCompiler
    /// Which images of a call rerun in float32 (nil: none), and the float32 runtime that reruns them.
    public let boundaryCheck: BoundaryCheck?
    private let reference: Runtime?
    private let plans: PlanCache
    private let compiling = Mutex(())
    private let int8Ranges: Mutex<Int8Calibration?>

    /// One cell per batch size asked for; a cell's lock is held while its plan compiles. A class, so that a checked
    /// runtime shares the plans of the one it was made from.
    private final class PlanCache: Sendable {
        let cells = Mutex<[Int: PlanCell]>([:])
        /// The plans' arenas and scratchpads (a buffer per call running at once) and their weights as laid out for the
        /// kernels: held once for all batch sizes, not once per plan.
        let memory = SharedPlanMemory(limit: InferencePlan.pooledContexts)
        let weights = WeightCache()
    }

    private final class PlanCell: Sendable {
        let plan = Mutex<(any CompiledPlan)?>(nil)
    }

    /// `precision` defaults to the model's own (INT8 for a quantized model, where `compiler` runs it). An INT8 runtime of a float
    /// model quantizes with `calibration`; without one it calibrates on random inputs on first use (for
    /// speed figures only: accuracy needs ranges measured on real images).
    public convenience init(graph: Graph, parameters: ParameterStore, inputName: String = "image", sampleShape: [Int],
                            layout: PlanLayout = .channelsLast, precision: Precision? = nil, calibration: Int8Calibration? = nil,
                            int8Weights: Int8WeightRange? = nil, parallelism: PlanParallelism = .auto,
                            convolutions: ConvolutionAlgorithm = .auto, compiler: any PlanCompiler = DNNLPlanCompiler(), fuse: Bool = true) {
        self.init(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape, layout: layout,
                  precision: precision ?? compiler.nativePrecision(for: graph), calibration: calibration, int8Weights: int8Weights,
                  parallelism: parallelism, convolutions: convolutions, compiler: compiler, fuse: fuse, check: nil, plans: PlanCache())
    }

    private init(graph: Graph, parameters: ParameterStore, inputName: String, sampleShape: [Int], layout: PlanLayout, precision: Precision,
                 calibration: Int8Calibration?, int8Weights: Int8WeightRange?, parallelism: PlanParallelism,
                 convolutions: ConvolutionAlgorithm, compiler: any PlanCompiler, fuse: Bool, check: (BoundaryCheck, Runtime)?, plans: PlanCache) {
        self.graph = graph; self.parameters = parameters; self.inputName = inputName; self.compiler = compiler
        self.sampleShape = sampleShape; self.layout = layout; self.precision = precision
        self.int8Weights = int8Weights
        self.parallelism = parallelism
        self.convolutions = convolutions
        self.fuse = fuse
        (boundaryCheck, reference) = (check?.0, check?.1)
        self.plans = plans
        int8Ranges = Mutex(calibration)
    }

    /// This runtime with `check`: the same plans, and each call's uncertain images rerun in `reference`, a float32
    /// runtime of the same model (usually the one the check was measured with).
    public func checking(_ check: BoundaryCheck, reference: Runtime) throws -> Runtime {
        guard precision == .int8 else {
            throw EngineError.unsupported("boundary check", "checks INT8 runtimes; this one runs \(precision.rawValue)")
        }
        guard reference.precision == .fp32, reference.sampleShape == sampleShape, reference.graph.nodes.count == graph.nodes.count else {
            throw EngineError.invalid("boundary check", "the reference must be a float32 runtime of the same model")
        }
        return Runtime(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape, layout: layout,
                       precision: precision, calibration: try calibration(), int8Weights: int8Weights, parallelism: parallelism,
                       convolutions: convolutions, compiler: compiler, fuse: fuse, check: (check, reference), plans: plans)
    }

    /// The calibration INT8 plans use (nil for other precisions, and for quantized models, whose
    /// `fakeQuantize` nodes carry their scales).
    public func calibration() throws -> Int8Calibration? {
        guard precision == .int8, !Int8Quantization.isQuantized(graph) else { return nil }
        return try int8Ranges.withLock { c in
            if c == nil { c = try Int8Calibration.random(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape) }
            return c
        }
    }

    /// Bytes of the plans' shared memory held for the next calls (tests).
    var idlePlanMemoryBytes: Int { plans.memory.idleBytes }

    /// The batch sizes this runtime holds compiled plans for, ascending.
    public var compiledBatchSizes: [Int] {
        plans.cells.withLock { cells in cells.filter { $0.value.plan.withLock { $0 != nil } }.keys.sorted() }
    }

    /// The oneDNN plan for `batch`, compiled now if needed (an error for a runtime whose compiler makes other plans).
    public func plan(batch: Int) throws -> InferencePlan {
        guard let p = try compiledPlan(batch: batch) as? InferencePlan else {
            throw EngineError.unsupported("runtime", "the \(compiler.name) compiler's plans are not oneDNN plans; use compiledPlan(batch:)")
        }
        return p
    }

    /// The plan for `batch`, compiled now if needed (the INT8 plan alone: a boundary check applies in `run`).
    public func compiledPlan(batch: Int) throws -> any CompiledPlan {
        guard batch >= 1 else { throw EngineError.invalid("runtime", "batch size must be positive, got \(batch)") }
        let cell = plans.cells.withLock { plans in
            if let c = plans[batch] { return c }
            let c = PlanCell()
            plans[batch] = c
            return c
        }
        return try cell.plan.withLock { plan in
            if let plan { return plan }
            let calibration = try calibration()
            // A failed compilation leaves the cell empty: the next caller tries again.
            var request = PlanRequest(graph: graph, parameters: parameters, inputName: inputName, inputShape: [batch] + sampleShape,
                                      layout: layout, precision: precision, calibration: calibration, int8Weights: int8Weights,
                                      parallelism: parallelism, convolutions: convolutions, fuse: fuse)
            (request.sharedMemory, request.sharedWeights) = (plans.memory, plans.weights)
            let p = try compiling.withLock { _ in try compiler.compile(request) }
            plan = p
            return p
        }
    }

    public func run(_ input: Tensor) throws -> Tensor { try runChecked(input).output }

    /// `run`, and how many of the images the boundary check reran in float32 (0 without one).
    public func runChecked(_ input: Tensor) throws -> (output: Tensor, rechecked: Int) {
        guard input.rank == sampleShape.count + 1, Array(input.shape.dropFirst()) == sampleShape else {
            throw EngineError.shape("runtime", "expected input [N, \(sampleShape.map(String.init).joined(separator: ", "))], got \(describe(input.shape))")
        }
        let output = try compiledPlan(batch: input.shape[0]).run(input)
        guard let boundaryCheck, let reference else { return (output, 0) }
        var checked = output.contiguous()
        let classes = try BoundaryCheck.classCount(checked.shape)
        let rows = checked.withUnsafeBufferPointer { boundaryCheck.uncertainRows($0, classes: classes) }
        var done = 0
        // Sub-batches of powers of two, largest first: at most log₂ N + 1 reference plans, none of them padded.
        while done < rows.count {
            let size = 1 << (Int.bitWidth - 1 - (rows.count - done).leadingZeroBitCount)
            let part = Array(rows[done..<(done + size)])
            let redo = try reference.run(input.rows(at: part)).contiguous()
            redo.withUnsafeBufferPointer { src in
                checked.withUnsafeMutableBufferPointer { dst in
                    for (j, row) in part.enumerated() {
                        for c in 0..<classes { dst[row * classes + c] = src[j * classes + c] }
                    }
                }
            }
            done += size
        }
        return (checked, rows.count)
    }

    /// Compiles the plan for `batch` now, and with a boundary check the reference plans a call of that size can use.
    public func prepare(batch: Int) throws {
        _ = try compiledPlan(batch: batch)
        guard let reference else { return }
        var size = 1
        while size <= batch {
            _ = try reference.compiledPlan(batch: size)
            size *= 2
        }
    }
}

/// Latency statistics of repeated runs (milliseconds).
public struct LatencyStats: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var p95: Double
    public var std: Double
    public var min: Double
    public var max: Double

    public init(_ samples: [Double]) {
        let s = samples.sorted()
        let n = Double(s.count)
        mean = s.reduce(0, +) / n
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        // Nearest-rank p95 (the value at or below which 95% of samples lie).
        p95 = s[Swift.max(0, Int((0.95 * n).rounded(.up)) - 1)]
        let m = mean
        std = s.count > 1 ? (s.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot() : 0
        min = s.first!; max = s.last!
    }
}

extension InferencePlan {
    /// Times `runs` calls after `warmup` untimed ones; returns each call's milliseconds.
    public func time(_ input: Tensor, runs: Int, warmup: Int) throws -> [Double] {
        for _ in 0..<warmup { _ = try run(input) }
        return try (0..<runs).map { _ in
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try run(input)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
    }
}
