import Foundation
import Testing
import TestSupport
@testable import CPUBackend
@testable import GraphCore
@testable import Runtime

/// The kernel-family registry reproduces what plans reported before it: the `--convolutions` values in their order,
/// the summary's and `bench infer`'s phrases, and the JSON keys of a `bench infer` row.
@Suite struct KernelFamilyTests {
    @Test func convolutionValuesKeepTheirOrder() throws {
        #expect(ConvolutionAlgorithm.allCases.map(\.rawValue) == ["direct", "winograd", "winograd4x4", "streaming", "depthwise", "separable", "resize-conv", "auto"])
        #expect(try ConvolutionAlgorithm(option: "separable") == .separable)
        #expect(throws: EngineError.invalid("runtime", "convolutions must be one of direct, winograd, winograd4x4, streaming, depthwise, separable, resize-conv, auto; got 'fft'")) {
            try ConvolutionAlgorithm(option: "fft")
        }
        #expect(KernelFamily.ranked.map(\.name) == ["streaming", "winograd", "streaming-wide", "separable", "depthwise", "resize-conv"])
    }

    static let implementations = ["winograd_f2x3+matmul:x", "winograd_f4x3+matmul:x", "winograd_f4x3+matmul:x", "streaming_conv:avx2_p4x16",
                                  "depthwise_conv3x3:avx2", "separable_conv3x3+1x1:avx2", "brgconv:avx2", "brgconv:avx2"]

    @Test func countsReadAsBefore() throws {
        let counts = ConvolutionCounts(implementations: Self.implementations)
        #expect((counts.all, counts.winograd, counts.f4x4, counts.streaming, counts.depthwise, counts.separable) == (8, 3, 2, 1, 1, 1))
        #expect(counts.summary == ", 3/8 convolutions winograd, 1 streaming, 1 depthwise, 1 separable")
        #expect(counts.benchSummary == ", 3/8 convs winograd (2 F(4×4)), 1 streaming, 1 depthwise, 1 separable")
        #expect(ConvolutionCounts(implementations: ["brgconv:avx2"]).summary == ", 0/1 convolutions winograd")
        let json = try JSONSerialization.jsonObject(with: counts.prettyJSON()) as? [String: Int]
        #expect(json == ["winograd_convolutions": 3, "winograd_f4x4_convolutions": 2, "streaming_convolutions": 1, "depthwise_convolutions": 1,
                         "separable_convolutions": 1, "resize_convolutions": 0, "convolutions": 8])
    }
}
