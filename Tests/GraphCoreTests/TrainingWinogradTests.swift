import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// Winograd in the training step (`TrainingWinograd`): the forward convolution, the input gradient and the weight
/// gradient against `ReferenceBackend`'s direct sums, and the float weight transform against the double one the runtime uses.
/// Tolerances: F(4×4, 3×3) adds ~1e-5 relative over a few hundred products (`WinogradTests`); 1e-4 absolute + 1e-3
/// relative admits that, as in `CrossBackendTests`, while a wrong tap, a kernel not turned or a transposed weight is O(1).
@Suite(.enabled(if: DNNLContext.shared != nil && TrainingWinograd.applies(input: [1, 16, 4, 4], weight: [16, 16, 3, 3], .init(padding: Pair(1)))))
struct TrainingWinogradTests {
    static let tolerance = Tolerance(abs: 1e-4, rel: 1e-3)
    static let variants = WinogradConv3x3.Variant.allCases

    /// The forward convolution, with a bias, on each variant.
    @Test(arguments: variants) func forwardMatchesTheReference(_ variant: WinogradConv3x3.Variant) throws {
        let ctx = try #require(DNNLContext.shared)
        let a = Conv2dAttributes(padding: Pair(1))
        let x = TestData.normal([2, 16, 9, 7], seed: 31), w = TestData.normal([32, 16, 3, 3], seed: 32, std: 0.3)
        let b = TestData.normal([32], seed: 33)
        let y = try TrainingWinograd.run(x, weight: w, bias: b, .forward, variant: variant, ctx: ctx)
        expectClose(y, try ReferenceBackend().conv2d(x, weight: w, bias: b, a), Self.tolerance, "forward, \(variant)")
    }

    /// The input gradient: the output gradient convolved with the weights flipped and transposed.
    @Test(arguments: variants) func inputGradientMatchesTheReference(_ variant: WinogradConv3x3.Variant) throws {
        let ctx = try #require(DNNLContext.shared)
        let a = Conv2dAttributes(padding: Pair(1))
        let x = TestData.normal([2, 32, 6, 10], seed: 41), w = TestData.normal([16, 32, 3, 3], seed: 42, std: 0.3)
        let gy = TestData.normal([2, 16, 6, 10], seed: 43)
        let dx = try TrainingWinograd.run(gy, weight: w, bias: nil, .inputGradient, variant: variant, ctx: ctx)
        let expected = try ReferenceBackend().conv2dBackward(gy, x: x, weight: w, hasBias: false, a, needInput: true)
        expectClose(dx, try #require(expected.input), Self.tolerance, "input gradient, \(variant)")
    }

    /// The weight gradient (and the bias's) as GEMMs over transformed tiles, on maps whose edge tiles are partly
    /// outside, in one chunk of tiles and in chunks of at most 5 whose GEMMs accumulate.
    @Test(arguments: variants) func weightGradientMatchesTheReference(_ variant: WinogradConv3x3.Variant) throws {
        let a = Conv2dAttributes(padding: Pair(1))
        let x = TestData.normal([2, 16, 9, 7], seed: 71), w = TestData.normal([32, 16, 3, 3], seed: 72, std: 0.3)
        let gy = TestData.normal([2, 32, 9, 7], seed: 73)
        let expected = try ReferenceBackend().conv2dBackward(gy, x: x, weight: w, hasBias: true, a, needInput: false)
        for chunk in [nil, 5] {
            let (dw, db) = try WinogradWeightGradient.compute(gradOut: gy.converted(to: .channelsLast), x: x.converted(to: .channelsLast),
                                                              variant: variant, hasBias: true, chunkTiles: chunk)
            expectClose(dw, expected.weight, Self.tolerance, "weight gradient, \(variant), chunks of \(chunk.map(String.init) ?? "all")")
            expectClose(try #require(db), try #require(expected.bias), Self.tolerance, "bias gradient, \(variant)")
        }
    }

    /// The float transform, straight into the products' layout, equals the runtime's transform in double, packed; the
    /// flipped one equals it on weights flipped and transposed by hand. Float rounding: 1e-6 relative to the largest.
    @Test(arguments: variants) func packedWeightsMatchTheDoubleTransform(_ variant: WinogradConv3x3.Variant) throws {
        let (k, c) = (32, 16)
        let w = TestData.normal([k, c, 3, 3], seed: 51)
        var turned = [Float](repeating: 0, count: w.count)   // [c][k][3][3], each kernel turned by 180°
        let ws = w.scalars
        for o in 0..<k { for i in 0..<c { for t in 0..<9 { turned[(i * k + o) * 9 + 8 - t] = ws[(o * c + i) * 9 + t] } } }
        let g = variant == .f2x2 ? WinogradF2x2.g : WinogradF4x4.g
        for (out, inC, flipped) in [(k, c, false), (c, k, true)] {
            // The flipped case's kernel for output o and input i is `turned`'s; packedWeights reads it from the original.
            let expected = (flipped ? turned : ws).withUnsafeBufferPointer {
                WinogradConv3x3.packedForStreaming(WinogradConv3x3.transformedWeights($0.baseAddress!, inChannels: inC, outChannels: out, g: g),
                                                   planes: variant.planes, inChannels: inC, outChannels: out)
            }
            let packed = ws.withUnsafeBufferPointer {
                TrainingWinograd.packedWeights($0.baseAddress!, outChannels: out, inChannels: inC, variant: variant, flipped: flipped)
            }
            let count = variant.planes * k * c
            let (p, e) = (packed.pointer.assumingMemoryBound(to: Float.self), expected.pointer.assumingMemoryBound(to: Float.self))
            let largest = (0..<count).map { abs(e[$0]) }.max()!
            let worst = (0..<count).map { abs(p[$0] - e[$0]) }.max()!
            #expect(worst <= 1e-6 * largest, "\(variant), flipped \(flipped): off by \(worst) of \(largest)")
        }
    }

    /// Through the backend: a shape large enough to race, whichever way the race goes, and a small one, direct.
    @Test func theBackendsConvolutionAndGradientMatchTheReference() throws {
        let backend = try DNNLBackend()
        let a = Conv2dAttributes(padding: Pair(1))
        for (xs, ws) in [([4, 32, 32, 32], [32, 32, 3, 3]), ([1, 16, 5, 5], [16, 16, 3, 3])] {
            let x = TestData.normal(xs, seed: 61), w = TestData.normal(ws, seed: 62, std: 0.2)
            let reference = ReferenceBackend()
            let y = try backend.conv2d(x, weight: w, bias: nil, a)
            expectClose(y, try reference.conv2d(x, weight: w, bias: nil, a), Self.tolerance, "forward \(xs)")
            let gy = TestData.normal(y.shape, seed: 63)
            let got = try backend.conv2dBackward(gy, x: x, weight: w, hasBias: false, a, needInput: true)
            let expected = try reference.conv2dBackward(gy, x: x, weight: w, hasBias: false, a, needInput: true)
            expectClose(try #require(got.input), try #require(expected.input), Self.tolerance, "input gradient \(xs)")
            // Each weight gradient is a sum over every pixel of the batch (4,096 here), so its rounding scales with
            // the sums' size, not with each sum's own value: 1e-5 of the largest, where F(4×4) was measured at a few
            // 1e-6 of the norm (bench/README, "The weight gradient on Winograd").
            let largest = expected.weight.scalars.map { Double(abs($0)) }.max()!
            expectClose(got.weight, expected.weight, Tolerance(abs: 1e-5 * largest, rel: 1e-3), "weight gradient \(xs)")
        }
    }

    /// `PNEUMO_TRAINING_WINOGRAD` forces a variant or direct; anything else leaves it to the races.
    @Test func environmentChoice() {
        #expect(TrainingWinograd.choice("off") == .some(nil))
        #expect(TrainingWinograd.choice("f2x2") == .some(.f2x2))
        #expect(TrainingWinograd.choice("f4x4") == .some(.f4x4))
        #expect(TrainingWinograd.choice("auto") == nil)
        #expect(TrainingWinograd.choice(nil) == nil)
        #expect(TrainingWinograd.choice("F4x4") == nil)
    }
}
