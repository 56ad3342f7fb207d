import Testing
@testable import CPUBackend
import CKernels
import GraphCore

/// Our kernel for Winograd's per-plane products (`pneumo_winograd_gemm_avx2`) against the same sums in double, written
/// out here: every tile count from 1 to 14 (passes of 6 and 4 tiles and every remainder), several 16-channel columns,
/// and column ranges that start and stop inside a plane (how threads share them). Tolerance 1e-5 relative to the largest
/// magnitude: float32 sums of at most 48 products of N(0, 1) values, whatever their order.
@Suite(.enabled(if: WinogradConv3x3.Products.avx2.isSupported, "our Winograd products need AVX2 and FMA"))
struct WinogradProductsTests {
    @Test(arguments: [(2, 48, 32), (3, 16, 48), (1, 32, 16)], 1...14)
    func matchesProductsInDouble(shape: (planes: Int, channels: Int, outChannels: Int), tiles: Int) throws {
        let (p, c, k) = shape
        var rng = SeededRandom(seed: UInt64(tiles))
        let v = (0..<(p * tiles * c)).map { _ in Float(rng.nextNormal()) }
        let u = (0..<(p * c * k)).map { _ in Float(rng.nextNormal()) }
        var expected = [Double](repeating: 0, count: p * tiles * k)
        for e in 0..<p {
            for t in 0..<tiles {
                for o in 0..<k {
                    var sum = 0.0
                    for i in 0..<c { sum += Double(v[(e * tiles + t) * c + i]) * Double(u[(e * c + i) * k + o]) }
                    expected[(e * tiles + t) * k + o] = sum
                }
            }
        }
        var packed = [Float](repeating: .nan, count: u.count)
        pneumo_winograd_gemm_pack(u, &packed, Int64(p), Int64(c), Int64(k))
        #expect(!packed.contains { $0.isNaN }, "the packing leaves no weight unwritten")
        let columns = p * k / 16
        // All columns at once, and in two ranges split inside a plane where there is more than one column.
        for split in Set([columns, max(1, columns / 2 + columns % 2)]) {
            var m = [Float](repeating: .nan, count: expected.count)
            v.withUnsafeBufferPointer { v in
                packed.withUnsafeBufferPointer { u in
                    m.withUnsafeMutableBufferPointer { m in
                        var g = pneumo_winograd_gemm(v: v.baseAddress, u: u.baseAddress, m: m.baseAddress, tiles: Int64(tiles),
                                                     channels: Int64(c), outChannels: Int64(k), prefetchBytes: 8 << 10)
                        pneumo_winograd_gemm_avx2(&g, 0, Int64(split))
                        pneumo_winograd_gemm_avx2(&g, Int64(split), Int64(columns))
                    }
                }
            }
            let scale = expected.map(abs).max()!
            let worst = zip(m, expected).map { abs(Double($0) - $1) }.max()!
            #expect(!m.contains { $0.isNaN }, "every output written (P\(p) T\(tiles) C\(c) K\(k), split at \(split))")
            #expect(worst <= 1e-5 * scale, "P\(p) T\(tiles) C\(c) K\(k), split at \(split): off by \(worst) of \(scale)")
        }
    }
}
