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
/// Tiles go in equal chunks of at most `defaultChunkBytes` of `V` and `dM` together, so that each chunk's transforms are
/// still in the cache when its GEMMs read them; the planes' GEMMs (`dnnl_sgemm`, one thread each) are spread over the
/// team and accumulate over the chunks.
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
        let most = max(1, chunkTiles ?? defaultChunkBytes / (planes * (c + k) * 4))
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
                switch variant {
                case .f2x2:
                    WinogradF2x2.transformInput(xp, height: h, width: w, channels: c, tiles: r, first: first, planeStride: rows * c, to: vp.pointer)
                    WinogradF2x2.transformOutputGradient(dy, height: h, width: w, channels: k, tiles: r, first: first, planeStride: rows * k, to: dmp.pointer)
                case .f4x4:
                    WinogradF4x4.transformInput(xp, height: h, width: w, channels: c, tiles: r, first: first, planeStride: rows * c, to: vp.pointer)
                    WinogradF4x4.transformOutputGradient(dy, height: h, width: w, channels: k, tiles: r, first: first, planeStride: rows * k, to: dmp.pointer)
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
        var dw = Tensor(uninitialized: [k, c, 3, 3])
        dw.withUnsafeMutableBufferPointer { dst in
            let out = SendablePointer(dst.baseAddress!)
            _ = OpenMPParallel.all(count: k, minimumPerThread: max(1, 4096 / c)) { r in
                weights(dup.pointer, channels: r, inChannels: c, outChannels: k, variant: variant, to: out.pointer)
                return true
            }
        }
        var db: Tensor?
        if hasBias {
            var sums = Tensor(zeros: [k])
            sums.withUnsafeMutableBufferPointer { s in pneumo_column_sums(dy, Int64(n * h * w), Int32(k), 0, Int32(k), s.baseAddress!) }
            db = sums
        }
        withExtendedLifetime((x, gradOut, v, dm, du)) {}
        return (dw, db)
    }

    /// `dW[k][c] = Gᵀ dU[k][c] G` (3 × 3 from `(m+2) × (m+2)`) for the output channels `channels`, from `du`
    /// (`[P][K][C]`) into `dw` (`[K][C][3][3]`); sixteen input channels at a time, one per vector lane.
    private static func weights(_ du: UnsafePointer<Float>, channels: Range<Int>, inChannels c: Int, outChannels k: Int,
                                variant: WinogradConv3x3.Variant, to dw: UnsafeMutablePointer<Float>) {
        let n = variant.inputTile
        let g = (variant == .f2x2 ? WinogradF2x2.g : WinogradF4x4.g).map(Float.init)
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 3 * n) { buffer in
            let gu = buffer.baseAddress!
            for ko in channels {
                for cb in stride(from: 0, to: c, by: 16) {
                    let plane = { (e: Int) in UnsafeRawPointer(du + (e * k + ko) * c + cb).load(as: SIMD16<Float>.self) }
                    // Gᵀ dU (3 × n), then (Gᵀ dU) G (3 × 3).
                    for i in 0..<3 {
                        for b in 0..<n {
                            var s = SIMD16<Float>(repeating: 0)
                            for a in 0..<n { s += g[a * 3 + i] * plane(a * n + b) }
                            gu[i * n + b] = s
                        }
                    }
                    for i in 0..<3 {
                        for j in 0..<3 {
                            var s = SIMD16<Float>(repeating: 0)
                            for b in 0..<n { s += gu[i * n + b] * g[b * 3 + j] }
                            // Lane l is input channel cb + l: its 3×3 kernel lies 9 floats after the previous one's.
                            let out = dw + (ko * c + cb) * 9 + i * 3 + j
                            for l in 0..<16 { out[l * 9] = s[l] }
                        }
                    }
                }
            }
        }
    }
}
