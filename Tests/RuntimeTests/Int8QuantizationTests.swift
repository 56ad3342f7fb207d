import Foundation
import Testing
import Models
import NN
import Optimize
import CPUBackend
@testable import Runtime

/// The INT8 rewrite: a float graph with `fakeQuantize` nodes and weights on their int8 grids. Its float
/// execution (the IR interpreter), the INT8 plan built from it without any calibration, and the fp32 plan
/// (rounding by reorders) must agree; they differ only where float32 summation order moves a value across
/// a rounding boundary, so agreement is stated as SQNR: ≥ 100 dB (measured 125–151 dB on these seeds: no
/// value crossed a boundary), where a wrong scale or a missed rounding anywhere gives tens of dB at most.
/// An INT8 plan with 7-bit weights (`Int8WeightRange.reduced`, CPUs without VNNI) rounds the model's 8-bit
/// weights once more, onto the 7-bit grid: it is compared with the interpreter on weights rounded so.
@Suite struct Int8QuantizationTests {
    func quantized(_ m: ModelGraph, samples: Tensor) throws -> RewriteResult {
        let c = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: samples, source: "test")
        return try Int8Quantization.quantize(m.graph, m.parameters, calibration: c)
    }

    func interpreter(_ r: RewriteResult, _ x: Tensor) throws -> [Float] {
        var p = r.parameters, rng = SeededRandom(seed: 0)
        let pass = try Executor(graph: r.graph, backend: ReferenceBackend()).forward(feeds: ["image": x], parameters: &p,
                                                                                    mode: .inference, rng: &rng)
        return pass[r.graph.outputs[0]]!.scalars
    }

    /// `r` with every convolution weight rounded onto `range`'s grid (`Int8WeightRange.quantize`, `k · s`).
    func weightsRounded(_ r: RewriteResult, to range: Int8WeightRange) throws -> RewriteResult {
        var p = r.parameters
        for node in r.graph.nodes {
            guard case .conv2d = node.op, case .parameter(let name) = r.graph[node.inputs[1]].op, let w = p[name] else { continue }
            let (k, s) = w.contiguous().withUnsafeBufferPointer { range.quantize($0, channels: w.shape[0]) }
            let per = w.count / w.shape[0]
            try p.set(name, try Tensor(shape: w.shape, scalars: k.indices.map { k[$0] * s[$0 / per] }))
        }
        return RewriteResult(graph: r.graph, parameters: p, changes: r.changes)
    }

    @Test(arguments: ["resnet", "mobilenet", "baseline"], Int8PlanTests.ranges.map(Optional.some) + [nil])
    func planAndInterpreterAgree(model: String, range: Int8WeightRange?) throws {
        let (m, shape): (ModelGraph, [Int]) = switch model {
        case "resnet": (try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 5), [1, 32, 32])
        case "mobilenet": (try ModelGraph(try MobileNetV2(inChannels: 3, width: 0.25), inputShape: [1, 3, 32, 32], seed: 7), [3, 32, 32])
        default: (try ModelGraph(ResNet18(width: 0.0625, upsampleTo: 40), inputShape: [1, 3, 20, 20], seed: 9), [3, 20, 20])
        }
        var rng = SeededRandom(seed: 11)
        let r = try quantized(m, samples: Tensor.randomNormal([16] + shape, using: &rng))
        #expect(Int8Quantization.isQuantized(r.graph))
        #expect(r.changes.allSatisfy { $0.weightError > 0 && $0.weightError < 0.02 }, "\(r.changes.map(\.weightError))")
        let x = Tensor.randomNormal([3] + shape, using: &rng)
        // No range: the float32 plan, which rounds by reorders.
        guard let range else {
            let fp32 = try InferencePlan(graph: r.graph, parameters: r.parameters, inputShape: x.shape, precision: .fp32)
            let b = try fp32.run(x).scalars
            let reference = try interpreter(r, x)
            #expect(Int8PlanTests().sqnr(reference, b) >= 100, "fp32 plan: \(Int8PlanTests().sqnr(reference, b)) dB")
            #expect(fp32.implementations.contains { $0.kind == .quantize })
            return
        }
        let reference = try interpreter(range == .full ? r : try weightsRounded(r, to: range), x)
        let int8 = try InferencePlan(graph: r.graph, parameters: r.parameters, inputShape: x.shape, precision: .int8, int8Weights: range)
        let a = try int8.run(x).scalars
        #expect(Int8PlanTests().sqnr(reference, a) >= 100, "int8 plan, \(range.rawValue) weights: \(Int8PlanTests().sqnr(reference, a)) dB")
        // In the INT8 plan every grid is written by the op that produces the value: the only rounding step
        // left is the one after a float op (the baseline's resize).
        let rounding = int8.implementations.filter { $0.kind == .quantize }.map(\.name)
        #expect(rounding.allSatisfy { $0.hasPrefix("resize") } && rounding.count == (model == "baseline" ? 1 : 0), "\(rounding)")
    }

    @Test func quantizingTwiceIsAnError() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        var rng = SeededRandom(seed: 1)
        let r = try quantized(m, samples: Tensor.randomNormal([4, 1, 28, 28], using: &rng))
        let c = try Int8Calibration(graph: r.graph, parameters: r.parameters, samples: Tensor.randomNormal([2, 1, 28, 28], using: &rng),
                                    source: "test")
        #expect(throws: EngineError.self) { try Int8Quantization.quantize(r.graph, r.parameters, calibration: c) }
    }
}
