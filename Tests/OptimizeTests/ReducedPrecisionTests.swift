import Models
import NN
@testable import Optimize
import Testing

/// FP16/BF16 rounding: nearest-even on hand-picked ties, the software binary16 path against Swift's
/// `Float16`, and the size of the output change of a model with rounded weights.
@Suite struct ReducedPrecisionTests {
    @Test func float16RoundsToNearestEven() {
        let ulp: Float = 0x1p-10   // at 1.0
        #expect(InferenceRewrites.roundedToFloat16(1 + ulp / 2) == 1)                 // tie → even (1.0)
        #expect(InferenceRewrites.roundedToFloat16(1 + 3 * ulp / 2) == 1 + 2 * ulp)   // tie → even mantissa 2
        #expect(InferenceRewrites.roundedToFloat16(1 + ulp * 0.6) == 1 + ulp)
        #expect(InferenceRewrites.roundedToFloat16(65504) == 65504)
        #expect(InferenceRewrites.roundedToFloat16(70000) == .infinity)
        #expect(InferenceRewrites.roundedToFloat16(0x1p-26) == 0)                     // below half the smallest subnormal
    }

    @Test func bfloat16KeepsTheTopSixteenBits() {
        let ulp: Float = 0x1p-7
        #expect(InferenceRewrites.roundedToBFloat16(1 + ulp / 2) == 1)
        #expect(InferenceRewrites.roundedToBFloat16(1 + 3 * ulp / 2) == 1 + 2 * ulp)
        #expect(InferenceRewrites.roundedToBFloat16(-3.0) == -3)
        #expect(InferenceRewrites.roundedToBFloat16(70000) == 70144)                  // 8 significant bits, no overflow
        #expect(InferenceRewrites.roundedToBFloat16(.nan).isNaN)
        #expect(InferenceRewrites.roundedToBFloat16(.infinity) == .infinity)
    }

    /// The software path (for platforms without `Float16`) is the reference of the hardware conversion.
    @Test func softwareFloat16MatchesTheHardwareConversion() {
        var rng = SeededRandom(seed: 3)
        for _ in 0..<20_000 {
            let x = rng.nextNormal() * Float(sign: .plus, exponent: Int(rng.next() % 40) - 25, significand: 1)
            let software = InferenceRewrites.roundedToBits(x, mantissa: 10, minExponent: -14, maxFinite: 65504)
            #expect(software == Float(Float16(x)), "\(x)")
        }
    }

    @Test func roundedWeightsChangeTheOutputByTheirPrecision() throws {
        let m = try Support.resnet()
        let folded = try InferenceRewrites.prepareForInference(m.graph, m.parameters)
        let x = Support.input([2, 3, 32, 32])
        let reference = try Support.logits(m.graph, m.parameters, x)
        var changes: [DType: Double] = [:]
        for dtype in [DType.float16, .bfloat16] {
            let cast = try InferenceRewrites.roundWeights(folded.graph, folded.parameters, to: dtype)
            #expect(cast.parameters.names == folded.parameters.names)
            changes[dtype] = Support.change(try Support.logits(cast.graph, cast.parameters, x), reference)
        }
        // Per-weight relative rounding 2⁻¹¹ (FP16) and 2⁻⁸ (BF16), accumulated over ~20 layers.
        #expect(changes[.float16]! > 0 && changes[.float16]! < 5e-3)
        #expect(changes[.bfloat16]! > changes[.float16]! && changes[.bfloat16]! < 5e-2)
        #expect(throws: EngineError.self) { try InferenceRewrites.roundWeights(folded.graph, folded.parameters, to: .int8) }
    }
}
