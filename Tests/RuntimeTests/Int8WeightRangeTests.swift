import Foundation
import Testing
@testable import CPUBackend
import CKernels
import GraphCore
import TestSupport
@testable import Runtime

/// INT8 weight ranges: 8-bit where VNNI sums u8·s8 products in int32, 7-bit where oneDNN adds them in pairs in
/// saturating 16 bits (`Int8WeightRange`), against `scripts/make_int8_fixtures.py`'s NumPy:
/// - the weight rule (scale search, rounding, clamping): integers and scales equal;
/// - quantized conv chains: the integer arithmetic bit for bit (tolerance 0: the fixture's scales are powers of
///   two, so every value is exact in float32);
/// - a calibrated float convolution: its corrected bias and integer arithmetic to 1e-6 of the output's scale (the
///   correction is summed in another order than NumPy's; it moves the output by more than 100 times that).
/// The 7-bit cases run on any CPU with int8: natively here they take the VNNI kernels, under
/// `ONEDNN_MAX_CPU_ISA=AVX2` (or `AVX512_CORE`) the 16-bit ones, and both must equal the same file. The 8-bit plan
/// cases need AVX-512 VNNI or AMX.
@Suite struct Int8WeightRangeTests {
    struct Fixture: Decodable {
        struct Values: Decodable {
            var shape: [Int]
            var data: [Float]
            var tensor: Tensor { get throws { try Tensor(shape: shape, scalars: data) } }
        }
        struct Layer: Decodable {
            var weight: Values
            var bias: Values
            var groups: Int
            var padding: Int
            var relu: Bool
            var grid: QuantizationAttributes?
            var stride: Int
        }
        struct Chain: Decodable {
            var name: String
            var weight_bits: String
            /// nil: a float model, calibrated on `calibration`.
            var input_grid: QuantizationAttributes?
            var calibration: Values?
            var input: Values
            var layers: [Layer]
            var expected: Values
            var relative_tolerance: Float
        }
        struct Weights: Decodable {
            struct Quantized: Decodable {
                var weight: Values
                var integers: Values
                var scales: [Float]
            }
            var name: String
            var weight_bits: String
            var tensors: [Quantized]
        }
        var weights: [Weights]
        var chains: [Chain]

        static func load() throws -> Fixture {
            try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtureURL("int8_conv_chains.json", in: .module)))
        }

        static func names(_ range: Int8WeightRange) -> [String] {
            ((try? load().chains) ?? []).filter { $0.weight_bits == range.rawValue }.map(\.name)
        }
    }

    /// The chain as a graph: the input onto its grid (when it has one), then each convolution (bias, ReLU) onto the next.
    func graph(_ c: Fixture.Chain) throws -> (Graph, ParameterStore) {
        let b = GraphBuilder()
        var x = b.input("image", shape: c.input.shape)
        if let grid = c.input_grid { x = try b.apply(.fakeQuantize(grid), [x]) }
        for (i, layer) in c.layers.enumerated() {
            let w = try b.parameter("conv\(i).weight", shape: layer.weight.shape, initializer: .zeros)
            let bias = try b.parameter("conv\(i).bias", shape: layer.bias.shape, initializer: .zeros)
            x = try x.conv2d(weight: w, bias: bias, Conv2dAttributes(stride: Pair(layer.stride), padding: Pair(layer.padding),
                                                                     groups: layer.groups))
            if layer.relu { x = try x.relu() }
            if let grid = layer.grid { x = try b.apply(.fakeQuantize(grid), [x]) }
        }
        b.markOutputs([x])
        var p = b.parameters
        for (i, layer) in c.layers.enumerated() {
            try p.set("conv\(i).weight", try layer.weight.tensor)
            try p.set("conv\(i).bias", try layer.bias.tensor)
        }
        return (b.graph, p)
    }

    func expectChainMatchesNumPy(_ name: String) throws {
        let c = try #require(try Fixture.load().chains.first { $0.name == name })
        let range = try #require(Int8WeightRange(rawValue: c.weight_bits))
        let (g, p) = try graph(c)
        let calibration = try c.calibration.map { try Int8Calibration(graph: g, parameters: p, samples: try $0.tensor, source: "fixture") }
        let plan = try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8, calibration: calibration,
                                     int8Weights: range)
        #expect(plan.int8Weights == range)
        #expect(plan.summary.hasSuffix("int8 (\(range.rawValue) weights, \(CPUDevice.isaName))"), "\(plan.summary)")
        // Without VNNI, depthwise layers and one-channel images run on our own kernels wherever these take them; with
        // it, on none.
        var shape = c.input.shape
        for layer in c.layers {
            let a = Conv2dAttributes(stride: Pair(layer.stride), padding: Pair(layer.padding), groups: layer.groups)
            for (applies, name) in [(DepthwiseConv3x3Int8.applies, DepthwiseConv3x3Int8.kernelName), (ImageConv3x3Int8.applies, ImageConv3x3Int8.kernelName)]
            where applies(shape, layer.weight.shape, a) {
                #expect(plan.implementations.contains { $0.implementation.hasPrefix(name) } == !CPUDevice.hasVNNI, "\(plan.implementations)")
            }
            shape = [shape[0], layer.weight.shape[0], (shape[2] + 2 * layer.padding - layer.weight.shape[2]) / layer.stride + 1,
                     (shape[3] + 2 * layer.padding - layer.weight.shape[3]) / layer.stride + 1]
        }
        let out = try plan.run(try c.input.tensor)
        #expect(out.shape == c.expected.shape)
        let bound = c.relative_tolerance * c.expected.data.map(abs).max()!
        let wrong = zip(out.scalars, c.expected.data).filter { abs($0 - $1) > bound }.count
        #expect(wrong == 0, "\(name) on \(CPUDevice.isaName): \(wrong) of \(out.count) values differ from NumPy's by more than \(bound)")
    }

    @Test(.enabled(if: Precision.isSupported(.int8), "no int8 kernels on this CPU"), arguments: Fixture.names(.reduced))
    func reducedRangeMatchesNumPy(_ name: String) throws { try expectChainMatchesNumPy(name) }

    @Test(.enabled(if: Precision.isSupported(.int8) && CPUDevice.unsupportedReason(.full) == nil, "8-bit weights need AVX-512 VNNI or AMX"),
          arguments: Fixture.names(.full))
    func fullRangeMatchesNumPy(_ name: String) throws { try expectChainMatchesNumPy(name) }

    @Test func fixtureHasEveryCase() throws {
        #expect(Fixture.names(.reduced).count == 8 && Fixture.names(.full).count == 8)
        #expect(try Fixture.load().weights.map(\.weight_bits).sorted() == ["7-bit", "8-bit", "8-bit"])
    }

    /// oneDNN's AVX2 int8 1×1 kernel overruns its per-thread gather on strided sources of 8 channels
    /// (`PlanBuilder.avoidStridedGatherOverrun`): the plan takes another kernel, and calls repeat bit for bit (with the
    /// kernel, run alone on two threads, nearly every call differed from the first).
    @Test(.enabled(if: Precision.isSupported(.int8), "no int8 kernels on this CPU"))
    func stridedOneByOneRepeats() throws {
        let c = try #require(try Fixture.load().chains.first { $0.name == "7-bit strided 1×1 of 8 channels" })
        let (g, p) = try graph(c)
        let plan = try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8, int8Weights: .reduced)
        #expect(!plan.implementations.contains { $0.implementation.hasPrefix("jit_uni_int8_1x1") }, "\(plan.implementations)")
        let x = try c.input.tensor
        let first = try plan.run(x).scalars
        for _ in 0..<50 { #expect(try plan.run(x).scalars == first) }
    }

    /// The weight rule on random weights (normal and heavy-tailed, channels of 9 and 36, one all zero), and 8-bit on
    /// weights a 7-bit rounding left (kept on their 7-bit grid): NumPy's integers and scales exactly.
    @Test(arguments: Int8WeightRange.allCases) func weightRuleMatchesNumPy(_ range: Int8WeightRange) throws {
        let cases = try Fixture.load().weights.filter { $0.weight_bits == range.rawValue }
        #expect(!cases.isEmpty)
        for c in cases { for t in c.tensors {
            let (k, s) = t.weight.data.withUnsafeBufferPointer { range.quantize($0, channels: t.weight.shape[0]) }
            #expect(s == t.scales, "\(c.name) \(t.weight.shape)")
            #expect(k == t.integers.data, "\(c.name) \(t.weight.shape)")
        } }
    }

    /// The rule, worked by hand (7-bit). Channel [−126, 63, 1, 3, −5, 0]: s = 126/63 = 2 leaves half steps, rounded
    /// to even (31.5 → 32, 0.5 → 0, 1.5 → 2, −2.5 → −2), squared error 4, which no smaller scale beats. Channel
    /// [63, 31.5, −32.5, 0.25, −0.5, 1.5]: s = 1 leaves 1.0625; s = 0.99 clips 63 (63.6 → 63) and leaves 0.99, the
    /// least. An all-zero channel has scale 1. 8-bit: s = 1 and 2 are best, with ties to even again.
    @Test func rule() {
        let w: [Float] = [-126, 63, 1, 3, -5, 0,   0, 0, 0, 0, 0, 0,   63, 31.5, -32.5, 0.25, -0.5, 1.5]
        let (k7, s7) = w.withUnsafeBufferPointer { Int8WeightRange.reduced.quantize($0, channels: 3) }
        #expect(s7 == [2, 1, 0.99])
        #expect(k7 == [-63, 32, 0, 2, -2, 0,   0, 0, 0, 0, 0, 0,   63, 32, -33, 0, -1, 2])
        let w8: [Float] = [127, 63.5, -64.5, 0.5, -2.5, 1,   -254, 3, 5, 0, 0, 0]
        let (k8, s8) = w8.withUnsafeBufferPointer { Int8WeightRange.full.quantize($0, channels: 2) }
        #expect(s8 == [1, 2])
        #expect(k8 == [127, 64, -64, 0, -2, 1,   -127, 2, 2, 0, 0, 0])
    }

    /// Rounded weights `k · s` (a quantized model's, `optimize --recipe int8`) keep their integers and scales when
    /// quantized again, and their maximum gives the scale back (`(L · s) / L == s`, as ONNX export computes it): on
    /// 2,048 random normal channels of 72 weights (3×3×8), of which a few percent clip with 8 bits (j > 0), a third
    /// with 7. A candidate scale formed as `(m / L) · (1 − j/100)` broke both for about one channel in 130.
    @Test(arguments: Int8WeightRange.allCases) func roundedWeightsKeepTheirGrid(_ range: Int8WeightRange) {
        var rng = SeededRandom(seed: 19)
        let (channels, per) = (2048, 72)
        let w: [Float] = (0..<(channels * per)).map { _ in rng.nextNormal() * 0.1 }
        let (k, s) = w.withUnsafeBufferPointer { range.quantize($0, channels: channels) }
        let l = Float(range.limit)
        let rounded = k.indices.map { k[$0] * s[$0 / per] }
        let (k2, s2) = rounded.withUnsafeBufferPointer { range.quantize($0, channels: channels) }
        #expect(s2 == s)
        #expect(k2 == k)
        let clipped = (0..<channels).filter { o in w[(o * per)..<((o + 1) * per)].contains { abs($0 / s[o]) > l + 0.5 } }.count
        let lost = (0..<channels).filter { o in l * s[o] / l != s[o] || !k[(o * per)..<((o + 1) * per)].contains { abs($0) == l } }
        #expect(lost.isEmpty, "channels whose maximum does not give their scale back: \(lost.prefix(8))")
        #expect(clipped > 20, "only \(clipped) channels clipped: the search is not exercised")
        // 7-bit weights (a file quantized for CPUs without VNNI) stay as they are under 8-bit quantization too.
        if range == .reduced {
            let (k8, s8) = rounded.withUnsafeBufferPointer { Int8WeightRange.full.quantize($0, channels: channels) }
            #expect(s8 == s && k8 == k)
        }
    }

    /// The scale search's error sum (C: AVX lanes where the CPU has AVX, else a scalar loop) gives the bits of the Swift
    /// loop it replaced (eight `Double` lanes summed in order, then the tail), so the same scales win: weights with
    /// exact halves (round half to even), values past the limit (clamped), lengths that are not multiples of 8.
    @Test func squaredErrorIsTheSwiftLoopsBitForBit() {
        func swiftLoop(_ w: [Float], scale s: Float, limit l: Float) -> Double {
            var lanes = SIMD8<Double>()
            var i = 0
            while i + 8 <= w.count {
                let v = SIMD8<Float>(w[i..<(i + 8)])
                let d = ((v / s).rounded(.toNearestOrEven).clamped(lowerBound: SIMD8(repeating: -l), upperBound: SIMD8(repeating: l))) * s - v
                lanes += SIMD8<Double>(d) * SIMD8<Double>(d)
                i += 8
            }
            var error = lanes.sum()
            for j in i..<w.count {
                let d = Swift.min(Swift.max((w[j] / s).rounded(.toNearestOrEven), -l), l) * s - w[j]
                error += Double(d) * Double(d)
            }
            return error
        }
        var rng = SeededRandom(seed: 23)
        for count in [1, 7, 8, 13, 72, 1_153] {
            // A third on exact halves of the scale 0.5 (ties), the rest normal, some far past 63 · 0.5.
            let w: [Float] = (0..<count).map { i in
                i % 3 == 0 ? (Float(Int(rng.nextNormal() * 40)) + 0.5) * 0.5 : rng.nextNormal() * (i % 7 == 0 ? 60 : 10)
            }
            for (scale, limit) in [(Float(0.5), Float(63)), (0.5, 127), (0.37, 63), (1.9, 127)] {
                let expected = swiftLoop(w, scale: scale, limit: limit)
                w.withUnsafeBufferPointer { p in
                    let ours = Int8WeightRange.squaredError(p, 0..<count, scale: scale, limit: limit)
                    let scalar = pneumo_int8_squared_error_scalar(p.baseAddress!, Int64(count), scale, limit)
                    #expect(ours.bitPattern == expected.bitPattern && scalar.bitPattern == expected.bitPattern,
                            "\(count) weights, scale \(scale), limit \(limit): \(ours), scalar \(scalar), Swift \(expected)")
                }
            }
        }
    }

    /// Where the CPU adds u8·s8 pairs in 16 bits (`ONEDNN_MAX_CPU_ISA=AVX2 swift test`), 8-bit weights are refused by
    /// name, and the plan's own range is 7-bit.
    @Test(.enabled(if: CPUDevice.int8WeightRange == .reduced, "this CPU runs 8-bit int8 weights"))
    func fullRangeIsRefusedWithoutVNNI() throws {
        let c = try #require(try Fixture.load().chains.first)
        let (g, p) = try graph(c)
        let reason = try #require(CPUDevice.unsupportedReason(.full))
        #expect(reason.contains("AVX-512 VNNI") && reason.contains("7-bit"))
        #expect(throws: EngineError.unsupported("runtime", reason)) {
            try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8, int8Weights: .full)
        }
        #expect(try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8).int8Weights == .reduced)
    }
}
