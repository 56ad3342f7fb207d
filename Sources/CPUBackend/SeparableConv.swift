import GraphCore
import CDNNL
import CKernels

/// A depthwise-separable convolution as one step of our own (`Sources/CKernels/separable_conv.c`, AVX-512F or
/// AVX2 + FMA): `act(conv1x1(act₁(depthwise3x3(x) + b₁)) + b₂ + residual)`.
///
/// Two steps (our depthwise kernel, then oneDNN's 1×1 convolution) write the depthwise map out and read it back,
/// and each forks the thread team. Here every thread computes a few rows of depthwise output into its own scratch
/// (about 16 KB, at least 28 pixels: it stays in L1 or L2) and runs the 1×1 part on them at once: one fork/join, no
/// intermediate map. On maps of few rows the threads split the output channels instead, each computing the depthwise
/// rows itself. At batch 1 small networks (PneumoNet) spend more on the two calls' overhead than on their arithmetic
/// (figures: `bench/README.md`, "Kernel decisions").
///
/// # Shapes and layouts
/// input `[N, H, W, C]`, output and residual `[N, Ho, Wo, K]` (the depthwise convolution's map), NHWC float32; `C`
/// and `K` multiples of the build's vector (16 for AVX-512, 8 for AVX2). The depthwise part is 3×3, stride 1 or 2,
/// padding 1; the second part 1×1.
package final class SeparableConv: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, channels: Int, outChannels: Int, stride: Int
    /// The output map: `(height − 1) / stride + 1` rows, `(width − 1) / stride + 1` columns.
    package var outHeight: Int { (height - 1) / stride + 1 }
    package var outWidth: Int { (width - 1) / stride + 1 }
    package let isa: KernelISA
    /// `[9][C]`, then the 1×1 weights as `pneumo_separable_conv_pack` lays them out.
    package let depthwiseWeights: AlignedBuffer, pointwiseWeights: AlignedBuffer
    /// The zero rows above and below the map, then one scratch per slot.
    package let workspaceBytes: Int

    private let depthwiseBias: UnsafePointer<Float>?, bias: UnsafePointer<Float>?
    private let depthwiseActivation: Int32, activation: Int32
    /// Scratches the work is dealt to: at most the team at compile time. Each slot takes a share of the rows (at least
    /// two), or, on maps of few rows, every row and a share of the output channel blocks (`splitsChannels`).
    private let slots: Int
    private let splitsChannels: Bool
    private let blocks: Int
    private let chunkRows: Int, slotBytes: Int

    /// Whether the kernel takes a depthwise convolution (`dwWeight` `[C, 1, 3, 3]`) followed by a 1×1 one
    /// (`pwWeight` `[K, C, 1, 1]`): a build runs here, channel counts multiples of its vector.
    package static func applies(input: [Int], depthwise dw: Conv2dAttributes, dwWeight: [Int], pointwise pw: Conv2dAttributes,
                                pwWeight: [Int]) -> Bool {
        guard let isa = KernelISA.best, input.count == 4, dwWeight.count == 4, pwWeight.count == 4 else { return false }
        let c = input[1]
        return DepthwiseConv3x3.applies(input: input, weight: dwWeight, dw)
            && pwWeight[1] == c && pwWeight[2] == 1 && pwWeight[3] == 1 && pw.groups == 1 && pw.stride == Pair(1)
            && pw.padding == Pair(0) && pw.dilation == Pair(1) && pneumo_separable_conv_applies(isa.code, Int64(c), Int64(pwWeight[0])) != 0
    }

    /// - Parameters:
    ///   - depthwiseWeight: `[C, 1, 3, 3]`; `pointwiseWeight`: `[K, C, 1, 1]`, row-major (PyTorch's layouts).
    ///   - depthwiseBias, bias: `[C]` and `[K]`, read at every call: they must outlive this object.
    ///   - depthwiseActivation, activation: `.relu`, `.relu6` or nil.
    ///   - packed: where each packed weight buffer comes from (a plan's shared cache, keyed by which: "depthwise" or
    ///     "pointwise"); by default made here.
    package init(batch: Int, height: Int, width: Int, channels: Int, outChannels: Int, stride: Int = 1,
                 depthwiseWeight: UnsafePointer<Float>, depthwiseBias: UnsafePointer<Float>?, depthwiseActivation: Op?,
                 pointwiseWeight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Op?, isa: KernelISA? = nil,
                 packed: (String, () -> AlignedBuffer) throws -> AlignedBuffer = { $1() }) throws {
        guard let isa = isa ?? KernelISA.best, isa.isSupported,
              pneumo_separable_conv_applies(isa.code, Int64(channels), Int64(outChannels)) != 0, batch > 0, height > 0, width > 0,
              stride == 1 || stride == 2 else {
            throw EngineError.unsupported("separable conv", "needs an AVX-512F or AVX2 + FMA CPU, channel counts multiples of its vector, sizes positive and stride 1 or 2; got N\(batch) C\(channels)→\(outChannels) \(height)×\(width) stride \(stride)")
        }
        func code(_ op: Op?) throws -> Int32 {
            switch op {
            case nil: 0
            case .relu?: 1
            case .relu6?: 2
            case let other?: throw EngineError.unsupported("separable conv", "activation \(other.kindName) (ReLU or ReLU6 only)")
            }
        }
        (self.batch, self.height, self.width, self.channels, self.outChannels, self.stride) = (batch, height, width, channels, outChannels, stride)
        self.isa = isa
        (self.depthwiseBias, self.bias) = (depthwiseBias, bias)
        (self.depthwiseActivation, self.activation) = (try code(depthwiseActivation), try code(activation))
        let outWidth = (width - 1) / stride + 1
        let rows = batch * ((height - 1) / stride + 1), row = outWidth * channels * MemoryLayout<Float>.size
        let team = DNNLContext.threadCount
        blocks = outChannels / Int(pneumo_separable_conv_block(isa.code, Int64(outChannels)))
        // Fewer than four rows per thread (ResNet's 2×2 and 4×4 stages at batch 1): a thread each would leave the other
        // idle or read the 1×1 weights for a row or two; splitting the channels costs only the depthwise rows twice.
        splitsChannels = team > 1 && rows < 4 * team && blocks >= team
        slots = splitsChannels ? team : max(1, min(team, rows / 2))
        // About 16 KB of depthwise output per pass, but at least two 14-pixel tiles, so that each block of 1×1 weights
        // is read for enough pixels (MobileNetV2's 960 channels on 4-pixel rows read 123 KB of them per row); never more
        // rows than a slot gets.
        chunkRows = max(1, min(splitsChannels ? rows : (rows + slots - 1) / slots, max(16384 / row, (28 + outWidth - 1) / outWidth)))
        slotBytes = (chunkRows * row + 63) / 64 * 64
        workspaceBytes = (width * channels * MemoryLayout<Float>.size + 63) / 64 * 64 + slots * slotBytes
        depthwiseWeights = try packed("depthwise") { DepthwiseConv3x3.pack(depthwiseWeight, channels: channels) }
        pointwiseWeights = try packed("pointwise|\(isa.rawValue)") {
            let buffer = AlignedBuffer(byteCount: outChannels * channels * MemoryLayout<Float>.size)
            pneumo_separable_conv_pack(isa.code, pointwiseWeight, Int64(channels), Int64(outChannels),
                                       buffer.pointer.assumingMemoryBound(to: Float.self))
            return buffer
        }
    }

    package static let kernelName = "separable_conv3x3+1x1"
    package var implementation: String { "\(Self.kernelName):\(isa.rawValue)" }

    /// The zero rows, then the per-slot scratches, in `workspace`.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        let workspace = workspace.pointer
        let zeros = workspace.assumingMemoryBound(to: Float.self)
        zeros.update(repeating: 0, count: width * channels)
        let scratch = workspace + (width * channels * MemoryLayout<Float>.size + 63) / 64 * 64
        let depthwise = pneumo_depthwise_conv(isa: isa.code, input: input, output: nil,
                                              weights: UnsafePointer(depthwiseWeights.pointer.assumingMemoryBound(to: Float.self)),
                                              bias: depthwiseBias, residual: nil, zeros: zeros, height: Int64(height), width: Int64(width),
                                              channels: Int64(channels), activation: depthwiseActivation, stride: Int32(stride))
        var conv = pneumo_separable_conv(depthwise: depthwise, output: output,
                                         weights: UnsafePointer(pointwiseWeights.pointer.assumingMemoryBound(to: Float.self)),
                                         bias: bias, residual: residual, out_channels: Int64(outChannels), chunk_rows: Int64(chunkRows),
                                         activation: activation)
        let (rows, slots, slotBytes, blocks, splitsChannels) = (batch * outHeight, slots, slotBytes, blocks, splitsChannels)
        withUnsafePointer(to: &conv) { conv in
            // Slots, not threads, own the scratches: a thread runs its slots one after another, so a team smaller or
            // larger than at compile time stays correct.
            _ = OpenMPParallel.all(count: slots, minimumPerThread: 1) { range in
                for s in range {
                    let (r, b) = splitsChannels ? (0..<rows, s * blocks / slots..<(s + 1) * blocks / slots)
                                                : (s * rows / slots..<(s + 1) * rows / slots, 0..<blocks)
                    pneumo_separable_conv_run(conv, (scratch + s * slotBytes).assumingMemoryBound(to: Float.self),
                                              Int64(r.lowerBound), Int64(r.upperBound), Int64(b.lowerBound), Int64(b.upperBound))
                }
                return true
            }
        }
    }
}

extension SeparableConv: ArenaKernel {}
