import Foundation
import Testing
import CPUBackend
import GraphCore
import TestSupport
@testable import Runtime

/// INT8 weight ranges: 8-bit where VNNI sums u8·s8 products in int32, 7-bit where oneDNN adds them in pairs in
/// saturating 16 bits (`Int8WeightRange`). Plans of quantized conv chains must reproduce, bit for bit, the integer
/// arithmetic that `scripts/make_int8_fixtures.py` computes in NumPy (tolerance 0: its scales are powers of two, so
/// every value is exact in float32). The 7-bit cases run on any CPU with int8: natively here they take the VNNI
/// kernels, under `ONEDNN_MAX_CPU_ISA=AVX2` (or `AVX512_CORE`) the 16-bit ones, and both must equal the same file.
/// The 8-bit cases need AVX-512 VNNI or AMX.
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
        }
        struct Case: Decodable {
            var name: String
            var weight_bits: String
            var input_grid: QuantizationAttributes
            var input: Values
            var layers: [Layer]
            var expected: Values
        }
        var cases: [Case]

        static func load() throws -> Fixture {
            try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtureURL("int8_conv_chains.json", in: .module)))
        }

        static func names(_ range: Int8WeightRange) -> [String] {
            ((try? load().cases) ?? []).filter { $0.weight_bits == range.rawValue }.map(\.name)
        }
    }

    /// The case's chain as a quantized graph: the input onto its grid, then each convolution (bias, ReLU) onto the next.
    func graph(_ c: Fixture.Case) throws -> (Graph, ParameterStore) {
        let b = GraphBuilder()
        var x = try b.apply(.fakeQuantize(c.input_grid), [b.input("image", shape: c.input.shape)])
        for (i, layer) in c.layers.enumerated() {
            let w = try b.parameter("conv\(i).weight", shape: layer.weight.shape, initializer: .zeros)
            let bias = try b.parameter("conv\(i).bias", shape: layer.bias.shape, initializer: .zeros)
            x = try x.conv2d(weight: w, bias: bias, Conv2dAttributes(padding: Pair(layer.padding), groups: layer.groups))
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
        let c = try #require(try Fixture.load().cases.first { $0.name == name })
        let range = try #require(Int8WeightRange(rawValue: c.weight_bits))
        let (g, p) = try graph(c)
        let plan = try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8, int8Weights: range)
        #expect(plan.int8Weights == range)
        #expect(plan.summary.hasSuffix("int8 (\(range.rawValue) weights, \(CPUDevice.isaName))"), "\(plan.summary)")
        let out = try plan.run(try c.input.tensor)
        #expect(out.shape == c.expected.shape)
        let wrong = zip(out.scalars, c.expected.data).filter { $0 != $1 }.count
        #expect(wrong == 0, "\(name) on \(CPUDevice.isaName): \(wrong) of \(out.count) values differ from NumPy's integer arithmetic")
    }

    @Test(.enabled(if: Precision.isSupported(.int8), "no int8 kernels on this CPU"), arguments: Fixture.names(.reduced))
    func reducedRangeChainMatchesNumPy(_ name: String) throws { try expectChainMatchesNumPy(name) }

    @Test(.enabled(if: Precision.isSupported(.int8) && CPUDevice.unsupportedReason(.full) == nil, "8-bit weights need AVX-512 VNNI or AMX"),
          arguments: Fixture.names(.full))
    func fullRangeChainMatchesNumPy(_ name: String) throws { try expectChainMatchesNumPy(name) }

    @Test func fixtureHasBothRanges() {
        #expect(Fixture.names(.reduced).count == 2 && Fixture.names(.full).count == 2)
    }

    /// The rounding rule, worked by hand: `s = max|w| / L`, half steps to even, an all-zero channel's scale 1.
    @Test func roundingRule() {
        let w: [Float] = [63, 31.5, -32.5, 0.25, -0.5, 1.5,   0, 0, 0, 0, 0, 0,   -126, 63, 1, 3, -5, 0]
        let (k7, s7) = w.withUnsafeBufferPointer { Int8WeightRange.reduced.quantize($0, channels: 3) }
        #expect(s7 == [1, 1, 2])
        #expect(k7 == [63, 32, -32, 0, 0, 2,   0, 0, 0, 0, 0, 0,   -63, 32, 0, 2, -2, 0])
        let w8: [Float] = [127, 63.5, -64.5, 0.5, -2.5, 1,   -254, 3, 5, 0, 0, 0]
        let (k8, s8) = w8.withUnsafeBufferPointer { Int8WeightRange.full.quantize($0, channels: 2) }
        #expect(s8 == [1, 2])
        #expect(k8 == [127, 64, -64, 0, -2, 1,   -127, 2, 2, 0, 0, 0])
    }

    /// Where the CPU adds u8·s8 pairs in 16 bits (`ONEDNN_MAX_CPU_ISA=AVX2 swift test`), 8-bit weights are refused by
    /// name, and the plan's own range is 7-bit.
    @Test(.enabled(if: CPUDevice.int8WeightRange == .reduced, "this CPU runs 8-bit int8 weights"))
    func fullRangeIsRefusedWithoutVNNI() throws {
        let c = try #require(try Fixture.load().cases.first)
        let (g, p) = try graph(c)
        let reason = try #require(CPUDevice.unsupportedReason(.full))
        #expect(reason.contains("AVX-512 VNNI") && reason.contains("7-bit"))
        #expect(throws: EngineError.unsupported("runtime", reason)) {
            try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8, int8Weights: .full)
        }
        #expect(try InferencePlan(graph: g, parameters: p, inputShape: c.input.shape, precision: .int8).int8Weights == .reduced)
    }
}
