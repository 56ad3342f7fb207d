import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// The weight gradient as GEMMs over im2col chunks (`ConvWeightGradient`), on any CPU that runs oneDNN, against
/// `ReferenceBackend`'s direct sums: one chunk, and chunks of a few rows whose GEMMs accumulate (the last one short).
/// Sums of up to 2·8·8 = 128 products of O(1) values in another order: 1e-4 absolute + 1e-3 relative, as in
/// `CrossBackendTests`; a wrong tap, a missed chunk or a transposed weight is O(1).
@Suite(.enabled(if: DNNLContext.shared != nil)) struct ConvWeightGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let x: [Int], weight: [Int], attributes: Conv2dAttributes, bias: Bool, chunkRows: Int?
        var testDescription: String { "\(x) * \(weight), \(attributes.stride) \(attributes.padding) \(attributes.dilation), chunk \(chunkRows.map(String.init) ?? "whole")" }
    }

    static let cases = [
        Case(x: [2, 16, 8, 8], weight: [12, 16, 3, 3], attributes: .init(padding: Pair(1)), bias: true, chunkRows: nil),
        Case(x: [2, 16, 8, 8], weight: [12, 16, 3, 3], attributes: .init(padding: Pair(1)), bias: true, chunkRows: 7),
        Case(x: [3, 17, 9, 6], weight: [5, 17, 3, 2], attributes: .init(stride: Pair(2, 1), padding: Pair(1, 0), dilation: Pair(1, 2)),
             bias: false, chunkRows: 5),
        Case(x: [1, 32, 4, 4], weight: [40, 32, 3, 3], attributes: .init(stride: Pair(2), padding: Pair(1)), bias: true, chunkRows: 1),
    ]

    @Test(arguments: cases) func matchesTheReferenceBackend(_ c: Case) throws {
        let reference = ReferenceBackend()
        let x = TestData.normal(c.x, seed: 21)
        let w = TestData.normal(c.weight, seed: 22, std: 0.5)
        let y = try reference.conv2d(x, weight: w, bias: nil, c.attributes)
        let gy = TestData.normal(y.shape, seed: 23)
        let expected = try reference.conv2dBackward(gy, x: x, weight: w, hasBias: c.bias, c.attributes, needInput: false)
        let rowLength = c.weight[1] * c.weight[2] * c.weight[3]
        let (dw, db) = try ConvWeightGradient.compute(gradOut: gy.converted(to: .channelsLast), x: x.converted(to: .channelsLast),
                                                  weight: c.weight, c.attributes, hasBias: c.bias,
                                                  chunkFloats: c.chunkRows.map { $0 * rowLength } ?? ConvWeightGradient.defaultChunkFloats)
        #expect(dw.shape == c.weight && dw.layout == .rowMajor)
        expectClose(dw, expected.weight, Tolerance(abs: 1e-4, rel: 1e-3), "weight gradient")
        if c.bias {
            expectClose(try #require(db), try #require(expected.bias), Tolerance(abs: 1e-4, rel: 1e-3), "bias gradient")
        } else {
            #expect(db == nil)
        }
    }

    /// Where the GEMM takes over from oneDNN's kernels: no groups, a kernel larger than 1×1, 16 input channels or more,
    /// no AVX-512.
    @Test func appliesToUngroupedConvolutionsOfSixteenChannelsOrMoreWithoutAVX512() {
        let at = { (x: [Int], w: [Int], groups: Int) in ConvWeightGradient.applies(x: x, weight: w, .init(groups: groups)) }
        #expect(at([2, 64, 8, 8], [64, 64, 3, 3], 1) == (ConvWeightGradient.forced ?? !CPUDevice.hasAVX512))
        #expect(!at([2, 64, 8, 8], [64, 64, 1, 1], 1))
        #expect(!at([2, 3, 8, 8], [64, 3, 7, 7], 1))
        #expect(!at([2, 64, 8, 8], [64, 1, 3, 3], 64))
    }

    /// `PNEUMO_WEIGHT_GRADIENT` forces the choice either way; anything else leaves it to the CPU.
    @Test func environmentChoice() {
        #expect(ConvWeightGradient.choice("gemm") == true)
        #expect(ConvWeightGradient.choice("onednn") == false)
        #expect(ConvWeightGradient.choice(nil) == nil)
        #expect(ConvWeightGradient.choice("GEMM") == nil)
        #expect(ConvWeightGradient.choice("") == nil)
    }
}
