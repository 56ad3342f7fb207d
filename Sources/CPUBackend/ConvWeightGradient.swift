import CDNNL
import CKernels
import Foundation
import GraphCore

/// A convolution's weight gradient as GEMMs over the whole batch: `dW (out × kh·kw·in) = Σ dYᵀ (out × P) ·
/// im2col(x) (P × kh·kw·in)`, P running over every output pixel of every image, in equal chunks of rows that keep the
/// im2col matrix within `defaultChunkFloats`; then `[out][ky][kx][in]` → `[out][in][ky][kx]`.
///
/// oneDNN's backward-weights kernels on AVX2 reduce over the batch image by image: for ResNet-18's late layers, with
/// 2×2 or 4×4 outputs, that is a GEMM of inner size 4 or 16 per image, about half as fast as one GEMM over the batch
/// (bench/README, "The weight gradient as one GEMM"). Taken for ungrouped convolutions with a kernel larger than 1×1
/// and at least 16 input channels (a 1×1's gradient is a GEMM in oneDNN already; a 3-channel stem's im2col costs more
/// than it saves), on CPUs without AVX-512: with AVX-512, oneDNN's own backward-weights kernels were as fast layer by
/// layer, and the whole step took the same time either way (same section).
enum ConvWeightGradient {
    /// Floats of the im2col matrix per chunk, at most: a bound, so that a large batch's matrix
    /// is made and used a chunk at a time.
    static let defaultChunkFloats = 1 << 20

    static func applies(x: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        a.groups == 1 && weight[2] * weight[3] > 1 && x[1] >= 16 && (forced ?? !CPUDevice.hasAVX512)
    }

    /// `PNEUMO_WEIGHT_GRADIENT=gemm` takes this path wherever the shape allows it and `=onednn` nowhere, whatever the
    /// CPU: to time one against the other on a machine. Unset, the CPU decides.
    static let forced: Bool? = {
        let value = ProcessInfo.processInfo.environment["PNEUMO_WEIGHT_GRADIENT"]
        let forced = choice(value)
        if let value, forced == nil {
            FileHandle.standardError.write(Data("pneumo: PNEUMO_WEIGHT_GRADIENT=\(value) is neither gemm nor onednn; ignored\n".utf8))
        }
        return forced
    }()

    static func choice(_ value: String?) -> Bool? {
        switch value {
        case "gemm": true
        case "onednn": false
        default: nil
        }
    }

    /// `(dW, dB)` for weight shape `weight` (`[out, in, kh, kw]`), row-major; `dB` when `hasBias`. `x` and `gradOut` are
    /// the convolution's input and output gradient, channels last. `chunkFloats` bounds the im2col matrix (tests make it
    /// small to run several chunks).
    static func compute(gradOut: Tensor, x: Tensor, weight: [Int], _ a: Conv2dAttributes, hasBias: Bool,
                        chunkFloats: Int = defaultChunkFloats) throws -> (Tensor, Tensor?) {
        precondition(x.layout == .channelsLast && gradOut.layout == .channelsLast)
        let (out, inC, kh, kw) = (weight[0], weight[1], weight[2], weight[3])
        let geometry = pneumo_conv_geometry(
            height: Int32(x.shape[2]), width: Int32(x.shape[3]), channels: Int32(inC), outHeight: Int32(gradOut.shape[2]),
            outWidth: Int32(gradOut.shape[3]), kernelHeight: Int32(kh), kernelWidth: Int32(kw), strideY: Int32(a.stride.h),
            strideX: Int32(a.stride.w), padTop: Int32(a.padding.h), padLeft: Int32(a.padding.w), dilationY: Int32(a.dilation.h),
            dilationX: Int32(a.dilation.w))
        let rowLength = kh * kw * inC
        let pixels = gradOut.shape[0] * gradOut.shape[2] * gradOut.shape[3]
        // Equal chunks: a short last one would be a GEMM too thin to run at speed.
        let most = max(1, chunkFloats / rowLength)
        let chunks = max(1, (pixels + most - 1) / most)
        let chunk = max(1, (pixels + chunks - 1) / chunks)
        let col = AlignedBuffer(byteCount: chunk * rowLength * MemoryLayout<Float>.stride)
        let ohwi = AlignedBuffer(byteCount: out * rowLength * MemoryLayout<Float>.stride)
        let (xp, dy) = (x.rawPointer.assumingMemoryBound(to: Float.self), gradOut.rawPointer.assumingMemoryBound(to: Float.self))
        let colp = col.pointer.assumingMemoryBound(to: Float.self), w = ohwi.pointer.assumingMemoryBound(to: Float.self)
        if pixels == 0 { w.initialize(repeating: 0, count: out * rowLength) }   // an empty batch: no GEMM writes it
        try withUnsafePointer(to: geometry) { g in
            for first in stride(from: 0, to: pixels, by: chunk) {
                let rows = min(chunk, pixels - first)
                _ = OpenMPParallel.all(count: rows, minimumPerThread: 64) { r in
                    pneumo_im2col_nhwc(xp, g, Int64(first + r.lowerBound), Int64(first + r.upperBound), colp + r.lowerBound * rowLength)
                    return true
                }
                // dW (out × rowLength) (+)= dYᵀ · col: dY's rows for these pixels are `rows × out`, row-major.
                try check(dnnl_sgemm(84, 78, Int64(out), Int64(rowLength), Int64(rows), 1, dy + first * out, Int64(out), colp,
                                     Int64(rowLength), first == 0 ? 0 : 1, w, Int64(rowLength)), "conv2d weight gradient (sgemm)")
            }
        }
        var dw = Tensor(uninitialized: weight)
        dw.withUnsafeMutableBufferPointer { dst in
            _ = OpenMPParallel.all(count: out, minimumPerThread: max(1, 16_384 / rowLength)) { o in
                pneumo_ohwi_to_oihw(w, Int32(inC), Int32(kh * kw), Int32(o.lowerBound), Int32(o.upperBound), dst.baseAddress!)
                return true
            }
        }
        let db = hasBias ? biasGradient(gradOut) : nil
        withExtendedLifetime((x, gradOut, col, ohwi)) {}
        return (dw, db)
    }

    /// A bias's gradient: the output gradient (`[N, K, H, W]`, channels last) summed over every pixel of every image.
    static func biasGradient(_ gradOut: Tensor) -> Tensor {
        precondition(gradOut.layout == .channelsLast)
        let k = gradOut.shape[1], pixels = gradOut.shape[0] * gradOut.shape[2] * gradOut.shape[3]
        var sums = Tensor(zeros: [k])
        sums.withUnsafeMutableBufferPointer { s in
            pneumo_column_sums(gradOut.rawPointer.assumingMemoryBound(to: Float.self), Int64(pixels), Int32(k), 0, Int32(k), s.baseAddress!)
        }
        withExtendedLifetime(gradOut) {}
        return sums
    }
}
