import CDNNL
import CKernels
import GraphCore

/// The weight gradient of a 3×3 stride-1 pad-1 convolution by Winograd's F(m×m, 3×3): the transpose of the forward
/// pass. With `V = Bᵀ d B` per input tile and `U = G g Gᵀ`, the forward computes `y = Aᵀ (U ⊙ V) A` per tile, so
///
///     dW[k][c] = Gᵀ (Σ over tiles (A dy[k] Aᵀ) ⊙ V[c]) G,
///
/// the sum over tiles one GEMM per plane: `dU[e] (K × C) = dMᵀ[e] · V[e]`, `dM = A dy Aᵀ` (`outputGradient`). That is
/// `(m+2)²` multiplies per channel pair and tile instead of `9m²`, as in the forward pass.
///
/// Tiles go in equal chunks of at most `defaultChunkBytes` of `V` and `dM` together (or of `dU`'s size, where that is
/// larger), so that each chunk's transforms are still in the cache when its GEMMs read them; the planes' GEMMs
/// (`dnnl_sgemm`, one thread each) are spread over the team and accumulate over the chunks. `Gᵀ dU G` is one GEMM too,
/// by `Gᵀ ⊗ Gᵀ`, over every channel pair at once.
enum WinogradWeightGradient {
    /// Bytes of `V` and `dM` per chunk of tiles, at most: within the L3 of the machines measured.
    static let defaultChunkBytes = 8 << 20

    /// `(dW, dB)`: `dW` `[K, C, 3, 3]` row-major, `dB` `[K]` when `hasBias`. `x` (`[N, C, H, W]`) and `gradOut`
    /// (`[N, K, H, W]`) are channels last, `C` and `K` multiples of 16 (`WinogradConv3x3.applies`). `chunkTiles` sets the
    /// chunk (tests make it small to run several).
    static func compute(gradOut: Tensor, x: Tensor, variant: WinogradConv3x3.Variant, hasBias: Bool,
                        chunkTiles: Int? = nil) throws -> (Tensor, Tensor?) {
        precondition(x.layout == .channelsLast && gradOut.layout == .channelsLast)
        let (n, c, h, w, k) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], gradOut.shape[1])
        precondition(c % 16 == 0 && k % 16 == 0 && gradOut.shape == [n, k, h, w])
        let planes = variant.planes
        let tiles = n * variant.tiles(height: h, width: w)
        // Equal chunks: a short last one would be GEMMs too thin to run at speed.
        // Each chunk's GEMMs read and write all of dU, so a chunk holds at least as many bytes as dU (one chunk for
        // the late layers, whose dU is the largest and whose tiles are few).
        let most = max(1, chunkTiles ?? max(defaultChunkBytes, planes * k * c * 4) / (planes * (c + k) * 4))
        let chunks = max(1, (tiles + most - 1) / most)
        let chunk = max(1, (tiles + chunks - 1) / chunks)
        let v = AlignedBuffer(byteCount: planes * chunk * c * 4), dm = AlignedBuffer(byteCount: planes * chunk * k * 4)
        let du = AlignedBuffer(byteCount: planes * k * c * 4)
        let (vp, dmp, dup) = (SendablePointer(v.pointer.assumingMemoryBound(to: Float.self)),
                              SendablePointer(dm.pointer.assumingMemoryBound(to: Float.self)),
                              SendablePointer(du.pointer.assumingMemoryBound(to: Float.self)))
        if tiles == 0 { dup.pointer.initialize(repeating: 0, count: planes * k * c) }   // an empty batch: no GEMM writes it
        let (xp, dy) = (x.rawPointer.assumingMemoryBound(to: Float.self), gradOut.rawPointer.assumingMemoryBound(to: Float.self))
        for first in stride(from: 0, to: tiles, by: chunk) {
            let rows = min(chunk, tiles - first)
            // Plane e of V at e · rows · C, of dM at e · rows · K: each plane one contiguous matrix.
            _ = OpenMPParallel.all(count: rows, minimumPerThread: 4) { r in
                let r = (first + r.lowerBound)..<(first + r.upperBound)
                func transform<T: WinogradTransforms>(_: T.Type) {
                    T.transformInput(xp, height: h, width: w, channels: c, tiles: r, first: first, planeStride: rows * c,
                                     to: vp.pointer)
                    T.transformOutputGradient(dy, height: h, width: w, channels: k, tiles: r, first: first,
                                              planeStride: rows * k, to: dmp.pointer)
                }
                switch variant {
                case .f2x2: transform(WinogradF2x2.self)
                case .f4x4: transform(WinogradF4x4.self)
                }
                return true
            }
            // dU[e] (K × C) (+)= dM[e]ᵀ · V[e]; a GEMM called inside the team runs on its calling thread.
            let ok = OpenMPParallel.all(count: planes, minimumPerThread: 1) { r in
                for e in r {
                    guard dnnl_sgemm(84, 78, Int64(k), Int64(c), Int64(rows), 1, dmp.pointer + e * rows * k, Int64(k),
                                     vp.pointer + e * rows * c, Int64(c), first == 0 ? 0 : 1, dup.pointer + e * k * c, Int64(c)) == dnnl_success
                    else { return false }
                }
                return true
            }
            if !ok { throw EngineError.backend("conv2d weight gradient (winograd)", "dnnl_sgemm failed") }
        }
        // dW tap by tap, [9][K·C] = (Gᵀ ⊗ Gᵀ) (9 × P) · dU (P × K·C): one GEMM on the team; then taps last.
        let taps = AlignedBuffer(byteCount: 9 * k * c * 4)
        let tp = SendablePointer(taps.pointer.assumingMemoryBound(to: Float.self))
        let kronecker = variant == .f2x2 ? kroneckerF2x2 : kroneckerF4x4
        try check(dnnl_sgemm(78, 78, 9, Int64(k * c), Int64(planes), 1, kronecker, Int64(planes), dup.pointer, Int64(k * c), 0,
                             tp.pointer, Int64(k * c)), "conv2d weight gradient (winograd, Gᵀ dU G)")
        var dw = Tensor(uninitialized: [k, c, 3, 3])
        dw.withUnsafeMutableBufferPointer { dst in
            let out = SendablePointer(dst.baseAddress!)
            _ = OpenMPParallel.all(count: k * c, minimumPerThread: 1 << 14) { r in
                pneumo_taps_last(tp.pointer, Int64(k * c), 9, Int64(r.lowerBound), Int64(r.upperBound), out.pointer)
                return true
            }
        }
        let db = hasBias ? ConvWeightGradient.biasGradient(gradOut) : nil
        withExtendedLifetime((x, gradOut, v, dm, du, taps)) {}
        return (dw, db)
    }

    /// `Gᵀ ⊗ Gᵀ`, `9 × (m+2)²` row-major: row `3i + j`, column `(m+2)a + b` is `G[a][i] · G[b][j]`, so that row `3i + j`
    /// times a plane-major `dU` is `(Gᵀ dU G)[i][j]`. Made in double, rounded once.
    static func kroneckerG(_ variant: WinogradConv3x3.Variant) -> [Float] {
        let g = variant == .f2x2 ? WinogradF2x2.g : WinogradF4x4.g
        let n = variant.inputTile
        return (0..<9).flatMap { ij in (0..<(n * n)).map { ab in Float(g[ab / n * 3 + ij / 3] * g[ab % n * 3 + ij % 3]) } }
    }

    private static let kroneckerF2x2 = kroneckerG(.f2x2), kroneckerF4x4 = kroneckerG(.f4x4)
}
