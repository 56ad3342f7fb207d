import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// The C builds of Winograd's tile transforms (`winograd_transforms.c`, AVX2 and AVX-512) against the Swift ones they
/// stand in for, on a map whose edge tiles are partly outside and with a range of tiles that starts past the first.
/// The C code may fuse a multiply and an add where Swift rounds twice: 1e-6 of the largest value admits that, while a
/// wrong plane, a wrong sign or a pixel read from outside the map is of the values' own size.
struct WinogradTransformTests {
    static let isas = KernelISA.allCases.filter(\.isSupported)
    static let cases: [(WinogradConv3x3.Variant, KernelISA)] =
        WinogradConv3x3.Variant.allCases.flatMap { v in isas.map { (v, $0) } }

    @Test(arguments: cases) func cTransformsMatchSwift(_ variant: WinogradConv3x3.Variant, _ isa: KernelISA) throws {
        let (n, c, h, w) = (2, 32, 9, 7)
        let x = TestData.normal([n, c, h, w], seed: 81).converted(to: .channelsLast)
        let tiles = n * variant.tiles(height: h, width: w)
        let (first, r) = (1, 1..<tiles)
        let planeStride = (tiles - first) * c
        for transform in ["input", "output gradient"] {
            var results: [[Float]] = []
            for chosen in [nil, isa] {
                var out = [Float](repeating: .nan, count: variant.planes * planeStride)
                let p = x.rawPointer.assumingMemoryBound(to: Float.self)
                out.withUnsafeMutableBufferPointer { o in
                    func run<T: WinogradTransforms>(_: T.Type) {
                        if transform == "input" {
                            T.transformInput(p, height: h, width: w, channels: c, tiles: r, first: first, planeStride: planeStride,
                                             to: o.baseAddress!, isa: chosen)
                        } else {
                            T.transformOutputGradient(p, height: h, width: w, channels: c, tiles: r, first: first,
                                                      planeStride: planeStride, to: o.baseAddress!, isa: chosen)
                        }
                    }
                    variant == .f2x2 ? run(WinogradF2x2.self) : run(WinogradF4x4.self)
                }
                results.append(out)
            }
            withExtendedLifetime(x) {}
            let (swift, ours) = (results[0], results[1])
            #expect(!swift.contains { $0.isNaN } && !ours.contains { $0.isNaN }, "\(transform), \(variant), \(isa): every value written")
            let largest = swift.map(abs).max()!
            let worst = zip(swift, ours).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6 * largest, "\(transform), \(variant), \(isa): off by \(worst) of \(largest)")
        }
    }

    /// A whole Winograd convolution, bias, residual and ReLU included, with the C transforms against the same with the
    /// Swift ones (the fallback for CPUs without AVX2, which nothing else runs on a CPU with it).
    @Test(arguments: cases) func convolutionWithCTransformsMatchesSwift(_ variant: WinogradConv3x3.Variant, _ isa: KernelISA) throws {
        let ctx = try #require(DNNLContext.shared)
        let (n, c, k, h, w) = (2, 16, 32, 9, 7)
        let x = TestData.normal([n, c, h, w], seed: 91).converted(to: .channelsLast)
        let weight = TestData.normal([k, c, 3, 3], seed: 92, std: 0.3), bias = TestData.normal([k], seed: 93)
        let residual = TestData.normal([n, k, h, w], seed: 94).converted(to: .channelsLast)
        var outputs: [[Float]] = []
        for transforms in [nil, isa] {
            let conv = try weight.withUnsafeBufferPointer { wp in
                try WinogradConv3x3(batch: n, height: h, width: w, inChannels: c, outChannels: k, weight: wp.baseAddress!,
                                    bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)), relu: true,
                                    variant: variant, products: .onednn, transforms: transforms, ctx: ctx)
            }
            let workspace = AlignedBuffer(byteCount: conv.workspaceBytes)
            let out = Tensor(uninitialized: [n, k, h, w], layout: .channelsLast)
            try conv.run(input: x.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                         residual: residual.rawPointer.assumingMemoryBound(to: Float.self),
                         workspace: try conv.bind(workspace: workspace.pointer))
            withExtendedLifetime((x, bias, residual, workspace)) {}
            outputs.append(out.scalars)
        }
        let largest = outputs[0].map(abs).max()!
        let worst = zip(outputs[0], outputs[1]).map { abs($0 - $1) }.max()!
        #expect(outputs[0].contains { $0 == 0 } && outputs[0].contains { $0 > 0 }, "ReLU cut some outputs and kept others")
        #expect(worst <= 1e-6 * largest, "convolution, \(variant), \(isa): off by \(worst) of \(largest)")
    }
}
