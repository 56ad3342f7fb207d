import GraphCore
import Foundation
import Synchronization

/// A model ready to serve: compiles an `InferencePlan` per batch size on first use and caches it.
/// Calls are serialised (a plan's arena is shared by its calls).
public final class Runtime: Sendable {
    public let graph: Graph
    public let parameters: ParameterStore
    public let inputName: String
    /// The input's shape without the batch dimension.
    public let sampleShape: [Int]
    public let layout: PlanLayout
    public let precision: Precision
    /// How each batch size's plan uses the threads (`.auto`: timed when the plan is compiled).
    public let parallelism: PlanParallelism
    /// How fp32 plans compute 3×3 stride-1 convolutions (`.auto`: direct or Winograd per shape, timed when
    /// a plan is compiled; `.direct` turns Winograd off).
    public let convolutions: ConvolutionAlgorithm
    private let plans = Mutex<[Int: InferencePlan]>([:])
    private let int8Ranges: Mutex<Int8Calibration?>

    /// `precision` defaults to the model's own (INT8 for a quantized model). An INT8 runtime of a float
    /// model quantizes with `calibration`; without one it calibrates on random inputs on first use (for
    /// speed figures only: accuracy needs ranges measured on real images).
    public init(graph: Graph, parameters: ParameterStore, inputName: String = "image", sampleShape: [Int],
                layout: PlanLayout = .channelsLast, precision: Precision? = nil, calibration: Int8Calibration? = nil,
                parallelism: PlanParallelism = .auto, convolutions: ConvolutionAlgorithm = .auto) {
        self.graph = graph; self.parameters = parameters; self.inputName = inputName
        self.sampleShape = sampleShape; self.layout = layout; self.precision = precision ?? Precision.native(for: graph)
        self.parallelism = parallelism
        self.convolutions = convolutions
        int8Ranges = Mutex(calibration)
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

    /// The plan for `batch`, compiled now if needed.
    public func plan(batch: Int) throws -> InferencePlan {
        guard batch >= 1 else { throw EngineError.invalid("runtime", "batch size must be positive, got \(batch)") }
        let calibration = try calibration()
        return try plans.withLock { plans in
            if let p = plans[batch] { return p }
            let p = try InferencePlan(graph: graph, parameters: parameters, inputName: inputName,
                                      inputShape: [batch] + sampleShape, layout: layout, precision: precision, calibration: calibration,
                                      parallelism: parallelism, convolutions: convolutions)
            plans[batch] = p
            return p
        }
    }

    public func run(_ input: Tensor) throws -> Tensor {
        guard input.rank == sampleShape.count + 1, Array(input.shape.dropFirst()) == sampleShape else {
            throw EngineError.shape("runtime", "expected input [N, \(sampleShape.map(String.init).joined(separator: ", "))], got \(describe(input.shape))")
        }
        let p = try plan(batch: input.shape[0])
        return try plans.withLock { _ in try p.run(input) }
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
