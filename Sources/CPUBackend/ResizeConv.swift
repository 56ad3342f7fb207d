import GraphCore
import CKernels

/// A bilinear resize (PyTorch's `align_corners=False`, `BilinearGeometry`) followed by a convolution, as one
/// convolution on the source image, run by our own kernel (`Sources/CKernels/resize_conv.c`, AVX-512F or AVX2 + FMA).
///
/// Both steps are linear, so an output pixel is a weighted sum of a small window of source pixels. Along one axis,
/// output row `o` reads resized rows `o·s − p + k` (`k < kH`), each a blend of two source rows: the rows' weights
/// form a `kH × window` matrix `A[o]`, and rows whose matrices are equal form a class (for 64 → 224 and stride 2,
/// seven classes repeat every seven rows, plus three at each border). Each pair of row and column classes has one
/// composite kernel `Σ W[k, c, ky, kx] · Ay[ky, dy] · Ax[kx, dx]` over the source window (4 × 4 for the spec
/// baseline's 64 → 224 and 7×7 stride 2: 48 taps per output pixel instead of 147, and no resized image).
///
/// # Shapes and layouts
/// input `[N, H, W, C]` (the source), output and residual `[N, Ho, Wo, K]`, NHWC float32, where `Ho × Wo` is the
/// convolution's output on the `resized` image; `K` a multiple of 16; any kernel size, stride and padding; no groups
/// or dilation.
package final class ResizeConv: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, channels: Int, outChannels: Int
    package let resized: Pair, kernel: Pair, stride: Pair, padding: Pair
    package let outHeight: Int, outWidth: Int
    package let isa: KernelISA
    /// Source rows × columns each output pixel reads.
    package let window: Pair
    /// Distinct row and column classes (composite kernels: their product).
    package let classes: Pair
    /// `[classes.h · classes.w][K / blockWidth][taps][blockWidth]`.
    package let weights: AlignedBuffer
    package let workspaceBytes = 0

    private let bias: UnsafePointer<Float>?
    private let relu: Bool
    private let blockWidth: Int
    private let inputOffsets: [Int64], outputOffsets: [Int64], taps: [Int64]
    private let blocks: [pneumo_resize_conv_block]

    /// Whether plans can take our kernels here (`KernelISA.best`).
    package static var isAvailable: Bool { KernelISA.best != nil }

    /// Whether the kernel takes a resize of `input` (`[N, C, H, W]`) to `resized`, then a convolution with `weight`
    /// (`[K, C, kH, kW]`): available on this CPU, `K` a multiple of 16, no groups or dilation, a non-empty output, a
    /// window no larger than the kernel itself (otherwise the resized image is the cheaper thing to convolve), and
    /// composite kernels within `maximumKernelFloats`.
    package static func applies(input: [Int], resized: Pair, weight: [Int], _ a: Conv2dAttributes) -> Bool {
        guard let isa = KernelISA.best, input.count == 4, weight.count == 4, a.groups == 1, a.dilation == Pair(1), weight[1] == input[1],
              pneumo_resize_conv_width(isa.code, Int64(weight[0])) > 0 else { return false }
        let oh = (resized.h + 2 * a.padding.h - weight[2]) / a.stride.h + 1, ow = (resized.w + 2 * a.padding.w - weight[3]) / a.stride.w + 1
        guard oh > 0, ow > 0, resized.h + 2 * a.padding.h >= weight[2], resized.w + 2 * a.padding.w >= weight[3] else { return false }
        let ay = axis(inSize: input[2], resized: resized.h, outSize: oh, kernel: weight[2], stride: a.stride.h, padding: a.padding.h)
        let ax = axis(inSize: input[3], resized: resized.w, outSize: ow, kernel: weight[3], stride: a.stride.w, padding: a.padding.w)
        let kernelFloats = ay.classes.count * ax.classes.count * weight[0] * ay.window * ax.window * input[1]
        return ay.window * ax.window <= weight[2] * weight[3] && kernelFloats <= Self.maximumKernelFloats
    }

    /// At most 4 MiB of composite kernels (the spec baseline needs about half): sizes whose classes repeat only over long
    /// periods (64 → 223 px) would need one per pair of output rows and columns, more memory than the resized image saves.
    package static let maximumKernelFloats = 1 << 20

    /// One axis: for each output index, its class and where its window starts; each class's `kernel × window` weights.
    struct Axis {
        var classOf: [Int] = [], start: [Int] = [], classes: [[Double]] = [], window = 1
    }

    static func axis(inSize: Int, resized: Int, outSize: Int, kernel: Int, stride: Int, padding: Int) -> Axis {
        let bilinear = BilinearGeometry.axisTaps(inSize: inSize, outSize: resized)
        // Each output index's taps: (kernel tap, source index, weight).
        var reads: [[(Int, Int, Double)]] = []
        var window = 1
        for o in 0..<outSize {
            var r: [(Int, Int, Double)] = []
            for k in 0..<kernel {
                let u = o * stride - padding + k
                guard u >= 0 && u < resized else { continue }
                let (i0, i1, w0, w1) = bilinear[u]
                r += [(k, i0, Double(w0)), (k, i1, Double(w1))]
            }
            if let lo = r.map(\.1).min(), let hi = r.map(\.1).max() { window = max(window, hi - lo + 1) }
            reads.append(r)
        }
        window = min(window, inSize)
        var a = Axis(window: window)
        // Rows whose weights agree within 1e-5 share a class: the bilinear weights repeat exactly in real arithmetic and
        // differ here only by float32 rounding of the source coordinate (~1e-6; 64 → 224 px would otherwise make 76 classes,
        // not 13). A class keeps its first row's weights.
        for r in reads {
            let start = min(r.map(\.1).min() ?? 0, inSize - window)
            var m = [Double](repeating: 0, count: kernel * window)
            for (k, i, w) in r { m[k * window + i - start] += w }
            let c = a.classes.firstIndex { c in zip(c, m).allSatisfy { abs($0 - $1) <= 1e-5 } }
                ?? { a.classes.append(m); return a.classes.count - 1 }()
            a.classOf.append(c)
            a.start.append(start)
        }
        return a
    }

    /// - Parameters:
    ///   - weight: `[K, C, kH, kW]` row-major (PyTorch's OIHW).
    ///   - bias: `[K]`, read at every call: it must outlive this object.
    ///   - isa: the build to run (default `KernelISA.best`).
    ///   - packed: where the composite weights come from (a plan's shared cache); by default `make()`.
    package init(batch: Int, height: Int, width: Int, channels: Int, resized: Pair, outChannels: Int, kernel: Pair, stride: Pair,
                 padding: Pair, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool, isa: KernelISA? = nil,
                 packed: (String, () -> AlignedBuffer) throws -> AlignedBuffer = { $1() }) throws {
        (self.batch, self.height, self.width, self.channels, self.outChannels) = (batch, height, width, channels, outChannels)
        (self.resized, self.kernel, self.stride, self.padding, self.bias, self.relu) = (resized, kernel, stride, padding, bias, relu)
        outHeight = (resized.h + 2 * padding.h - kernel.h) / stride.h + 1
        outWidth = (resized.w + 2 * padding.w - kernel.w) / stride.w + 1
        guard let isa = isa ?? KernelISA.best, isa.isSupported else {
            throw EngineError.unsupported("resize conv", "this CPU runs neither its AVX-512F nor its AVX2 + FMA build" + (isa.map { " (asked for \($0.rawValue))" } ?? ""))
        }
        self.isa = isa
        blockWidth = Int(pneumo_resize_conv_width(isa.code, Int64(outChannels)))
        let perBlock = Int(pneumo_resize_conv_pixels(isa.code, Int64(outChannels)))
        guard blockWidth > 0, outHeight > 0, outWidth > 0, channels > 0, batch > 0, height > 0, width > 0 else {
            throw EngineError.unsupported("resize conv", "needs output channels a multiple of 16 and a non-empty output; got K\(outChannels) \(outHeight)×\(outWidth)")
        }
        let ay = Self.axis(inSize: height, resized: resized.h, outSize: outHeight, kernel: kernel.h, stride: stride.h, padding: padding.h)
        let ax = Self.axis(inSize: width, resized: resized.w, outSize: outWidth, kernel: kernel.w, stride: stride.w, padding: padding.w)
        window = Pair(ay.window, ax.window)
        classes = Pair(ay.classes.count, ax.classes.count)
        // Taps ordered (dy, dx, c): offsets from the window's first source pixel.
        var taps: [Int64] = []
        for dy in 0..<ay.window { for dx in 0..<ax.window { for c in 0..<channels { taps.append(Int64((dy * width + dx) * channels + c)) } } }
        self.taps = taps
        // Pixels grouped by their pair of classes, in blocks of `perBlock` that share a kernel.
        var (inputs, outputs, blocks): ([Int64], [Int64], [pneumo_resize_conv_block]) = ([], [], [])
        for cy in 0..<ay.classes.count {
            let rows = (0..<outHeight).filter { ay.classOf[$0] == cy }
            for cx in 0..<ax.classes.count {
                let first = inputs.count
                for oy in rows {
                    for ox in 0..<outWidth where ax.classOf[ox] == cx {
                        inputs.append(Int64((ay.start[oy] * width + ax.start[ox]) * channels))
                        outputs.append(Int64((oy * outWidth + ox) * outChannels))
                    }
                }
                for b in Swift.stride(from: first, to: inputs.count, by: perBlock) {
                    blocks.append(pneumo_resize_conv_block(kernel: Int64(cy * ax.classes.count + cx), first: Int64(b),
                                                           count: Int64(min(perBlock, inputs.count - b))))
                }
            }
        }
        (inputOffsets, outputOffsets, self.blocks) = (inputs, outputs, blocks)
        let (k, c, kh, kw, bw) = (outChannels, channels, kernel.h, kernel.w, blockWidth)
        let key = "\(bw)|\(height)x\(width)→\(resized.h)x\(resized.w)|s\(stride.h)x\(stride.w)|p\(padding.h)x\(padding.w)"
        weights = try packed(key) {
            let (wy, wx, tapCount) = (ay.window, ax.window, taps.count)
            let buffer = AlignedBuffer(byteCount: ay.classes.count * ax.classes.count * k * tapCount * MemoryLayout<Float>.size)
            let packed = buffer.pointer.assumingMemoryBound(to: Float.self)
            for (cx, mx) in ax.classes.enumerated() {
                // Columns first: t[o][ci][ky][dx] = Σ_kx W[o][ci][ky][kx] · Ax[kx][dx], shared by every row class.
                var t = [Double](repeating: 0, count: k * c * kh * wx)
                for o in 0..<k { for ci in 0..<c { for ky in 0..<kh {
                    let w = weight + ((o * c + ci) * kh + ky) * kw
                    let row = ((o * c + ci) * kh + ky) * wx
                    for kx in 0..<kw where w[kx] != 0 { for dx in 0..<wx { t[row + dx] += Double(w[kx]) * mx[kx * wx + dx] } }
                } } }
                for (cy, my) in ay.classes.enumerated() {
                    let base = (cy * ax.classes.count + cx) * k * tapCount
                    for o in 0..<k { for ci in 0..<c { for dy in 0..<wy { for dx in 0..<wx {
                        var s = 0.0
                        for ky in 0..<kh { s += my[ky * wy + dy] * t[((o * c + ci) * kh + ky) * wx + dx] }
                        let tap = (dy * wx + dx) * c + ci
                        packed[base + ((o / bw) * tapCount + tap) * bw + o % bw] = Float(s)
                    } } } }
                }
            }
            return buffer
        }
    }

    /// What plans report (`resize_conv:avx2_4x4`: the build, then the source window).
    package static let kernelName = "resize_conv"
    package var implementation: String { "\(Self.kernelName):\(isa.rawValue)_\(window.h)x\(window.w)" }

    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        inputOffsets.withUnsafeBufferPointer { inputs in
            outputOffsets.withUnsafeBufferPointer { outputs in
                blocks.withUnsafeBufferPointer { blocks in
                    taps.withUnsafeBufferPointer { taps in
                        var conv = pneumo_resize_conv(
                            isa: isa.code, input: input, inputImageFloats: Int64(height * width * channels), inputOffsets: inputs.baseAddress,
                            outputOffsets: outputs.baseAddress, blocks: blocks.baseAddress, blockCount: Int64(blocks.count),
                            taps: taps.baseAddress, tapCount: Int64(taps.count),
                            weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)), bias: bias, residual: residual,
                            output: output, outputImageFloats: Int64(outHeight * outWidth * outChannels), outChannels: Int64(outChannels),
                            relu: relu ? 1 : 0)
                        withUnsafePointer(to: &conv) { conv in
                            _ = OpenMPParallel.all(count: batch * blocks.count, minimumPerThread: 4) { r in
                                pneumo_resize_conv_run(conv, Int64(r.lowerBound), Int64(r.upperBound))
                                return true
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ResizeConv: ArenaKernel {}
