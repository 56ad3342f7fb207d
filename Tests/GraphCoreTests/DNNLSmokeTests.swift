import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// Quick agreement checks of the oneDNN backend with the reference on a ResNet-like block; the full
/// per-op sweep lives in the cross-backend tests.
@Suite struct DNNLSmokeTests {
    /// Sums of up to 3·3·8 products in float32: agreement to 1e-4 relative to the largest magnitude.
    static let tolerance: Float = 1e-4

    @Test func convForwardBackwardMatchesReference() throws {
        let dnnl = try DNNLBackend(), ref = ReferenceBackend()
        var rng = SeededRandom(seed: 1)
        for (groups, stride) in [(1, 1), (2, 2), (8, 1)] {
            let a = Conv2dAttributes(stride: Pair(stride), padding: Pair(1), groups: groups)
            let x = Tensor.randomNormal([2, 8, 7, 6], using: &rng)
            let w = Tensor.randomNormal([8, 8 / groups, 3, 3], using: &rng)
            let b = Tensor.randomNormal([8], using: &rng)
            let y = try dnnl.conv2d(x, weight: w, bias: b, a)
            expectClose(y, try ref.conv2d(x, weight: w, bias: b, a), "conv g\(groups) s\(stride)", tolerance: Self.tolerance)
            let g = Tensor.randomNormal(y.shape, using: &rng)
            let r1 = try dnnl.conv2dBackward(g, x: x, weight: w, hasBias: true, a, needInput: true)
            let r2 = try ref.conv2dBackward(g, x: x, weight: w, hasBias: true, a, needInput: true)
            expectClose(r1.input!, r2.input!, "conv dx g\(groups)", tolerance: Self.tolerance)
            expectClose(r1.weight, r2.weight, "conv dw g\(groups)", tolerance: Self.tolerance)
            expectClose(r1.bias!, r2.bias!, "conv db g\(groups)", tolerance: Self.tolerance)
        }
    }
}
