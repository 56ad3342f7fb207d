import GraphCore
import CDNNL
import CKernels

/// A convolution with at most 16 output pixels in all (`N·Ho·Wo`; 256 with the AVX2 build), run by our own kernel
/// (`Sources/CKernels/streaming_conv.c`, AVX-512F or AVX2 + FMA): one pass over weights packed in the order the
/// FMAs read them, prefetched 8 KiB ahead.
///
/// Such convolutions (a late ResNet stage at batch 1: 4×4 and 2×2 maps) do few FMAs per weight, and every
/// call starts with their weights out of cache (a model's weights exceed the L3), so they are bound by how
/// well reading memory overlaps the arithmetic. oneDNN's kernels leave that to the hardware prefetcher; this one
/// prefetches explicitly, which is why it is faster on those shapes (figures and the command that measures them:
/// `bench/README.md`, "Kernel decisions"). Plans take it only where `auto`'s ablation keeps it.
///
/// # Shapes and layouts
/// input `[N, H, W, C]`, output and residual `[N, Ho, Wo, K]`, NHWC float32; `K` a multiple of 16; any
/// kernel size, stride and padding; no groups or dilation. The input is copied with a zero border into the
/// workspace first, so every tap of every pixel is a fixed offset from one pointer.
package final class StreamingConv: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
    package let kernel: Pair, stride: Pair, padding: Pair
    package let isa: KernelISA
    /// Output blocks of 16 channels per weight group: AVX-512 4, 2 or 1 for ≤ 4, ≤ 8, ≤ 16 output pixels; AVX2 1.
    package let group: Int
    /// Weights, `[K / 16·group][usedTaps][C][16·group]`, float32 or IEEE half (`halfWeights`).
    package let weights: AlignedBuffer
    /// Whether `weights` holds IEEE half: half the bytes to stream, converted to float32 as the kernel loads them.
    package let halfWeights: Bool
    /// The taps (`ky·kW + kx`) that read inside the map for some output pixel; the others only read padding.
    package let usedTaps: [Int]
    /// Bytes of the padded input.
    package let workspaceBytes: Int
    /// How far ahead of the FMAs the kernel prefetches weights: far enough that a line arrives before the FMAs reach
    /// it. Shorter distances timed slower, longer ones no faster (`bench/README.md`, "Kernel decisions").
    package static let prefetchBytes = 8 << 10

    private let bias: UnsafePointer<Float>?
    private let relu: Bool
    private let pixels: [Int64], taps: [Int64]
    private let outHeight: Int, outWidth: Int

    /// Whether plans can take our kernels here (`KernelISA.best`).
    package static var isAvailable: Bool { KernelISA.best != nil }

    /// Whether the kernel takes this convolution: available on this CPU, at most 16 output pixels (256 with AVX2),
    /// `K` a multiple of 16, no groups or dilation.
    package static func applies(input: [Int], weight: [Int], output: [Int], _ a: Conv2dAttributes) -> Bool {
        guard let isa = KernelISA.best, input.count == 4, weight.count == 4, output.count == 4, a.groups == 1, a.dilation == Pair(1),
              weight[1] == input[1] else { return false }
        return pneumo_streaming_conv_group(isa.code, Int64(output[0] * output[2] * output[3]), Int64(weight[0])) > 0
    }

    /// - Parameters:
    ///   - weight: `[K, C, kH, kW]` row-major (PyTorch's OIHW).
    ///   - bias: `[K]`, read at every call: it must outlive this object.
    ///   - isa: the build to run (default `KernelISA.best`).
    ///   - halfWeights: store the weights as IEEE half (rounded to nearest even), for an FP16 plan.
    ///   - packed: where the packed weights come from (a plan's shared cache, keyed by the packing: group and
    ///     taps); by default `make()`.
    package init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Pair, stride: Pair, padding: Pair,
                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool, isa: KernelISA? = nil, halfWeights: Bool = false,
                 packed: (String, () -> AlignedBuffer) throws -> AlignedBuffer = { $1() }) throws {
        (self.batch, self.height, self.width, self.inChannels, self.outChannels) = (batch, height, width, inChannels, outChannels)
        (self.kernel, self.stride, self.padding, self.bias, self.relu) = (kernel, stride, padding, bias, relu)
        outHeight = (height + 2 * padding.h - kernel.h) / stride.h + 1
        outWidth = (width + 2 * padding.w - kernel.w) / stride.w + 1
        let count = batch * outHeight * outWidth
        guard let isa = isa ?? KernelISA.best, isa.isSupported else {
            throw EngineError.unsupported("streaming conv", "this CPU runs neither its AVX-512F nor its AVX2 + FMA + F16C build" + (isa.map { " (asked for \($0.rawValue))" } ?? ""))
        }
        (self.isa, self.halfWeights) = (isa, halfWeights)
        group = Int(pneumo_streaming_conv_group(isa.code, Int64(count), Int64(outChannels)))
        guard group > 0, outHeight > 0, outWidth > 0, inChannels > 0 else {
            throw EngineError.unsupported("streaming conv", "needs 1–\(isa == .avx2 ? Int(PNEUMO_STREAMING_AVX2_MAX_PIXELS) : 16) output pixels and output channels a multiple of 16; got N\(batch) K\(outChannels) \(outHeight)×\(outWidth)")
        }
        let (hp, wp) = (height + 2 * padding.h, width + 2 * padding.w)
        var pixels: [Int64] = []
        for n in 0..<batch {
            for y in 0..<outHeight {
                for x in 0..<outWidth { pixels.append(Int64(((n * hp + y * stride.h) * wp + x * stride.w) * inChannels)) }
            }
        }
        // Only the taps some output pixel reads inside the map: on a 1×1 map a 3×3 convolution's centre alone,
        // whose weights are then all that is read (oneDNN skips the others too).
        let (rows, columns, outHeight, outWidth) = (0..<height, 0..<width, outHeight, outWidth)
        let usedRows = (0..<kernel.h).filter { ky in (0..<outHeight).contains { rows.contains($0 * stride.h + ky - padding.h) } }
        let usedColumns = (0..<kernel.w).filter { kx in (0..<outWidth).contains { columns.contains($0 * stride.w + kx - padding.w) } }
        let used = usedRows.flatMap { ky in usedColumns.map { kx in (ky, kx) } }
        usedTaps = used.map { $0.0 * kernel.w + $0.1 }
        let tapOffsets = used.map { Int64(($0.0 * wp + $0.1) * inChannels) }
        (self.pixels, self.taps) = (pixels, tapOffsets)
        workspaceBytes = batch * hp * wp * inChannels * MemoryLayout<Float>.size
        // The kernel reads `channels` floats at every pixel's offset plus every tap's: all inside the padded input.
        assert(pixels.max()! + (tapOffsets.max() ?? 0) + Int64(inChannels) <= Int64(workspaceBytes / MemoryLayout<Float>.size),
               "streaming conv: a tap of a pixel reads past the padded input")
        let (g, taps, all, c, k) = (group, usedTaps, kernel.h * kernel.w, inChannels, outChannels)
        weights = try packed("\(g)|\(taps.map(String.init).joined(separator: ","))" + (halfWeights ? "|f16" : "")) {
            let buffer = AlignedBuffer(byteCount: k * taps.count * c * (halfWeights ? 2 : MemoryLayout<Float>.size))
            let width = 16 * g
            // w[o / width][t][ci][o % width] = weight[o][ci][taps[t]]
            func pack<W>(_ w: UnsafeMutablePointer<W>, _ convert: (Float) -> W) {
                for o in 0..<k {
                    for ci in 0..<c {
                        for (t, tap) in taps.enumerated() {
                            w[((o / width * taps.count + t) * c + ci) * width + o % width] = convert(weight[(o * c + ci) * all + tap])
                        }
                    }
                }
            }
            if halfWeights {
                pack(buffer.pointer.assumingMemoryBound(to: UInt16.self)) { Float16($0).bitPattern }
            } else {
                pack(buffer.pointer.assumingMemoryBound(to: Float.self)) { $0 }
            }
            return buffer
        }
    }

    /// Output pixels in all (`N·Ho·Wo`).
    package var outputPixels: Int { pixels.count }
    /// Up to this many output pixels, every build reads each weight once a call (one pass of its pixel block): the
    /// memory-bound convolutions; plans weigh the kernel on these and on the wider ones separately (`KernelFamily.streaming`).
    package static let narrowPixels = 4

    /// What plans report (`streaming_conv:avx512_p16x16`: the build, then pixels per pass × output channels per weight group;
    /// `_f16` after it with half weights).
    package static let kernelName = "streaming_conv"
    package var implementation: String {
        let perPass = isa == .avx2 ? Int(pneumo_streaming_conv_avx2_pass(Int64(pixels.count))) : 16 / group
        return "\(Self.kernelName):\(isa.rawValue)_p\(perPass)x\(16 * group)" + (halfWeights ? "_f16" : "")
    }

    /// The padded input goes to `workspace`.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        let workspace = workspace.pointer.assumingMemoryBound(to: Float.self)
        pneumo_pad_nhwc(input, workspace, Int64(batch), Int64(height), Int64(width), Int64(inChannels), Int64(padding.h), Int64(padding.w))
        pixels.withUnsafeBufferPointer { pixels in
            taps.withUnsafeBufferPointer { taps in
                var conv = pneumo_streaming_conv(
                    isa: isa.code, input: workspace, pixels: pixels.baseAddress, taps: taps.baseAddress, pixelCount: Int64(pixels.count),
                    tapCount: Int64(taps.count), channels: Int64(inChannels),
                    weights: UnsafeRawPointer(weights.pointer), weightType: halfWeights ? Int32(PNEUMO_WEIGHTS_F16) : Int32(PNEUMO_WEIGHTS_F32),
                    bias: bias, residual: residual,
                    output: output, outChannels: Int64(outChannels), relu: relu ? 1 : 0, prefetchBytes: Int64(Self.prefetchBytes))
                withUnsafePointer(to: &conv) { conv in
                    // Whole weight groups per thread: each streams its own contiguous part of the weights.
                    _ = OpenMPParallel.all(count: outChannels / (16 * group), minimumPerThread: 1) { r in
                        pneumo_streaming_conv_run(conv, Int64(r.lowerBound), Int64(r.upperBound))
                        return true
                    }
                }
            }
        }
    }
}
