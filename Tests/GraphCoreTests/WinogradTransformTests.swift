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
}
