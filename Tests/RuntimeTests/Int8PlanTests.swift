import Foundation
import Testing
import Models
import NN
import CPUBackend
@testable import Runtime

/// INT8 plans, with each weight range this CPU runs (`Int8WeightRange`: 8-bit needs AVX-512 VNNI or AMX). Two
/// kinds of check: a convolution whose inputs and weights lie exactly on their int8 grids must give float32's
/// result exactly (this pins every scale: input, per-channel weights, bias); whole models must track float32
/// within a stated signal-to-quantization-noise ratio, the measure PyTorch's quantization tests use, since
/// requantizing between layers is inexact by design. Bounds sit about 6 dB under what these seeded, untrained
/// models measure (8-bit weights: ResNet 20.7, MobileNetV2 23.4, baseline 45.4 dB; 7-bit: ResNet 18.8,
/// MobileNetV2 25.1, baseline 37.1 dB); a wrong scale anywhere drops the ratio to about 0 dB or below.
@Suite struct Int8PlanTests {
    /// The weight ranges this CPU's INT8 plans run.
    static let ranges = Int8WeightRange.allCases.filter { Precision.isSupported(.int8) && CPUDevice.unsupportedReason($0) == nil }

    func float32(_ m: ModelGraph, _ x: Tensor) throws -> [Float] {
        try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape).run(x).scalars
    }

    func int8(_ m: ModelGraph, _ x: Tensor, calibrateOn samples: Tensor, weights: Int8WeightRange) throws -> (InferencePlan, [Float]) {
        let c = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: samples, source: "test")
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, precision: .int8, calibration: c,
                                     int8Weights: weights)
        return (plan, try plan.run(x).scalars)
    }

    /// 10·log10(Σ ref² / Σ (ref − q)²), in dB.
    func sqnr(_ ref: [Float], _ q: [Float]) -> Double {
        let signal = ref.reduce(0.0) { $0 + Double($1 * $1) }
        let noise = zip(ref, q).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        return 10 * log10(signal / max(noise, 1e-30))
    }

    @Test(arguments: ranges) func convolutionOnTheGridIsExact(_ range: Int8WeightRange) throws {
        // Weights: integers in −L…L (L = range.limit) times a power of two per output channel, with ±L present so
        // that max|w|/L is that power; input: integers in −127…127 with one scale; bias: multiples of 1/64. Every
        // product and sum is then exact in float32 and in int32, in any order (a random bias is not: float32
        // kernels that add it first differ in the last bit), so the int8 plan must reproduce float32 to the last bit.
        var m = try ModelGraph(try Conv2d(Conv2dConfig(2, 4, kernel: 3, padding: 1)), inputShape: [1, 2, 6, 6], seed: 1)
        let weightName = m.parameters.names.first { m.parameters[$0]!.rank == 4 }!
        var rng = SeededRandom(seed: 3)
        var w = [Float](repeating: 0, count: 4 * 2 * 9)
        for k in 0..<4 {
            let l = range.limit
            for i in 0..<18 { w[k * 18 + i] = Float(Int(rng.nextUniform() * Float(2 * l)) - l) * Float(1 << k) / 64 }
            w[k * 18 + (k * 5) % 18] = Float(k % 2 == 0 ? l : -l) * Float(1 << k) / 64
        }
        try m.parameters.set(weightName, try Tensor(shape: [4, 2, 3, 3], scalars: w))
        let biasName = m.parameters.names.first { m.parameters[$0]!.rank == 1 }!
        try m.parameters.set(biasName, try Tensor(shape: [4], scalars: [13, -7, 64, -1].map { Float($0) / 64 }))
        var xs = (0..<72).map { _ in Float(Int(rng.nextUniform() * 254) - 127) / 32 }
        xs[7] = -127 / 32
        let x = try Tensor(shape: [1, 2, 6, 6], scalars: xs)
        let (_, q) = try int8(m, x, calibrateOn: x, weights: range)
        #expect(q == (try float32(m, x)))
    }

    @Test(arguments: ranges) func resnetTracksFloat32(_ range: Int8WeightRange) throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 5)
        var rng = SeededRandom(seed: 6)
        let calibration = Tensor.randomNormal([16, 1, 32, 32], using: &rng)
        let x = Tensor.randomNormal([3, 1, 32, 32], using: &rng)
        let (plan, q) = try int8(m, x, calibrateOn: calibration, weights: range)
        let ref = try float32(m, x)
        let db = sqnr(ref, q)
        #expect(db >= (range == .full ? 15 : 13), "\(range.rawValue) weights: SQNR \(db) dB")
        #expect(q != ref, "an int8 plan that equals float32 exactly did not quantize")
        // Residual blocks add in int8 (sum post-op), so no add or ReLU step is left over.
        #expect(!plan.implementations.contains { $0.kind == .add || $0.kind == .activation })
        // Twice: the arena is reused between calls.
        #expect(try plan.run(x).scalars == q)
    }

    /// MobileNetV2: depthwise (grouped) convolutions, ReLU6, residuals without activation (s8 residuals).
    /// The baseline: the resize runs in float32 and its output is quantized for the first convolution.
    @Test(arguments: ["mobilenet", "baseline"], ranges)
    func modelTracksFloat32(model: String, range: Int8WeightRange) throws {
        let minimumDB = model == "mobilenet" ? (range == .full ? 18.0 : 19.0) : (range == .full ? 39.0 : 31.0)
        let (m, shape): (ModelGraph, [Int]) = model == "mobilenet"
            ? (try ModelGraph(try MobileNetV2(inChannels: 3, width: 0.25), inputShape: [1, 3, 32, 32], seed: 7), [3, 32, 32])
            : (try ModelGraph(ResNet18(width: 0.0625, upsampleTo: 40), inputShape: [1, 3, 20, 20], seed: 9), [3, 20, 20])
        var rng = SeededRandom(seed: model == "mobilenet" ? 8 : 10)
        let calibration = Tensor.randomNormal([model == "mobilenet" ? 16 : 8] + shape, using: &rng)
        let x = Tensor.randomNormal([2] + shape, using: &rng)
        let (_, q) = try int8(m, x, calibrateOn: calibration, weights: range)
        let db = sqnr(try float32(m, x), q)
        #expect(db >= minimumDB, "\(model), \(range.rawValue) weights: SQNR \(db) dB")
    }

    @Test func calibrationRecordsRangesOfThePreparedGraph() throws {
        let m = try ModelGraph(Sequential([try Conv2d(Conv2dConfig(1, 3, kernel: 3)), ReLU()]), inputShape: [1, 1, 5, 5], seed: 2)
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([4, 1, 5, 5], using: &rng)
        let c = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: x, batchSize: 3, source: "test")
        let out = try float32(m, x)
        let outputRange = c.ranges[m.graph.outputs[0].index]!
        #expect(outputRange.maxAbs == out.max()!)
        #expect(outputRange.isNonNegative)
        let inputRange = c.ranges[m.graph.inputID("image")!.index]!
        #expect(inputRange.maxAbs == x.scalars.map(abs).max()!)
        #expect(inputRange.min == x.scalars.min()!)
        #expect(c.sampleCount == 4)
    }

    @Test func badCalibrationIsAClearError() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        #expect(throws: EngineError.self) {   // no calibration
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], precision: .int8)
        }
        let other = try ModelGraph(Sequential([try Conv2d(Conv2dConfig(1, 3, kernel: 3))]), inputShape: [1, 1, 28, 28])
        let wrong = try Int8Calibration.random(graph: other.graph, parameters: other.parameters, sampleShape: [1, 28, 28], count: 2)
        #expect(throws: EngineError.self) {   // measured on another graph
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], precision: .int8, calibration: wrong)
        }
        #expect(throws: EngineError.self) {   // NaN samples
            try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: Tensor(repeating: .nan, shape: [1, 1, 28, 28]), source: "nan")
        }
    }

    @Test(.enabled(if: Precision.isSupported(.int8), "no int8 kernels on this CPU")) func runtimeCalibratesOnRandomInputsWithoutOne() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], precision: .int8)
        #expect(try runtime.calibration()?.source.contains("random") == true)
        #expect(try runtime.run(Tensor(zeros: [2, 1, 28, 28])).shape == [2, 2])
        #expect(try Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28]).calibration() == nil)
    }
}
