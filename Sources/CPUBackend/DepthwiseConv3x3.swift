import GraphCore
import CKernels

/// A 3×3 depthwise convolution (one filter per channel), stride 1 or 2, padding 1, run by our own kernel
/// (`Sources/CKernels/depthwise_conv.c`, AVX-512F or AVX2 + FMA, the build `KernelISA.best` picks).
///
/// Our models' depthwise maps are small (PneumoNet's 14×14×32, 7×7×64, 4×4×128: 56k, 28k and 18k MACs an image),
/// and there oneDNN's depthwise kernel leaves much of a core's arithmetic unused. This one keeps a channel block's
/// nine weights in registers and splits each pixel's sum over its three kernel rows (figures and the command that
/// measures them: `bench/README.md`, "Kernel decisions"). `auto` keeps it only where it makes the whole call faster.
///
/// # Shapes and layouts
/// input `[N, H, W, C]`, output and residual `[N, Ho, Wo, C]` (`outHeight`, `outWidth`), NHWC float32; `C` a multiple
/// of 16 (AVX-512) or 8 (AVX2).
package final class DepthwiseConv3x3: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, channels: Int, stride: Int
    /// The output map: `(height − 1) / stride + 1` rows, `(width − 1) / stride + 1` columns.
    package var outHeight: Int { (height - 1) / stride + 1 }
    package var outWidth: Int { (width - 1) / stride + 1 }
    package let isa: KernelISA
    /// `[9][C]`: tap, then channel.
    package let weights: AlignedBuffer
    /// The zero rows above and below the map: `W·C` floats.
    package let workspaceBytes: Int

    private let bias: UnsafePointer<Float>?
    private let activation: Int32

    /// Whether the kernel takes this convolution: a build runs here, groups = C = K, 3×3, stride 1 or 2 (both ways), padding 1,
    /// no dilation, `C` a multiple of the build's vector.
    package static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        guard let isa = KernelISA.best, isDepthwise3x3(input: input, weight: weight, a) else { return false }
        return pneumo_depthwise_conv_applies(isa.code, Int64(input[1])) != 0
    }

    /// Whether the convolution has this kernel's shape (its INT8 counterpart's too): groups = C = K, 3×3, stride 1 or 2
    /// (both ways), padding 1, no dilation.
    package static func isDepthwise3x3(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        guard input.count == 4, weight.count == 4 else { return false }
        let c = input[1]
        return a.groups == c && weight[0] == c && weight[1] == 1 && weight[2] == 3 && weight[3] == 3
            && (a.stride == Pair(1) || a.stride == Pair(2)) && a.padding == Pair(1) && a.dilation == Pair(1)
    }

    /// - Parameters:
    ///   - weight: `[C, 1, 3, 3]` row-major (PyTorch's layout for groups = C).
    ///   - bias: `[C]`, read at every call: it must outlive this object.
    ///   - cap: clip the output at this value after ReLU (6 for ReLU6); only with `relu`.
    ///   - packed: where the packed weights come from (a plan's shared cache); by default `make()`.
    package init(batch: Int, height: Int, width: Int, channels: Int, stride: Int = 1, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 relu: Bool, relu6: Bool = false, isa: KernelISA? = nil,
                 packed: (() -> AlignedBuffer) throws -> AlignedBuffer = { $0() }) throws {
        guard let isa = isa ?? KernelISA.best, isa.isSupported, pneumo_depthwise_conv_applies(isa.code, Int64(channels)) != 0,
              batch > 0, height > 0, width > 0, stride == 1 || stride == 2 else {
            throw EngineError.unsupported("depthwise conv", "needs an AVX-512F or AVX2 + FMA CPU, channels a multiple of its vector, sizes positive and stride 1 or 2; got N\(batch) C\(channels) \(height)×\(width) stride \(stride)")
        }
        (self.batch, self.height, self.width, self.channels, self.stride, self.isa, self.bias) = (batch, height, width, channels, stride, isa, bias)
        activation = relu6 ? 2 : relu ? 1 : 0
        workspaceBytes = width * channels * MemoryLayout<Float>.size
        let c = channels
        weights = try packed { Self.pack(weight, channels: c) }
    }

    /// PyTorch's `[C, 1, 3, 3]` weights as the kernel reads them, `[9][C]`.
    package static func pack(_ weight: UnsafePointer<Float>, channels c: Int) -> AlignedBuffer {
        let buffer = AlignedBuffer(byteCount: 9 * c * MemoryLayout<Float>.size)
        let w = buffer.pointer.assumingMemoryBound(to: Float.self)
        for ch in 0..<c { for t in 0..<9 { w[t * c + ch] = weight[ch * 9 + t] } }
        return buffer
    }

    package static let kernelName = "depthwise_conv3x3"
    package var implementation: String { "\(Self.kernelName):\(isa.rawValue)" }

    /// The zero rows go to `workspace`; they are written at each call (the scratchpad is shared with other steps).
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        let zeros = workspace.pointer.assumingMemoryBound(to: Float.self)
        zeros.update(repeating: 0, count: width * channels)
        var conv = pneumo_depthwise_conv(isa: isa.code, input: input, output: output,
                                         weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)), bias: bias,
                                         residual: residual, zeros: zeros, height: Int64(height), width: Int64(width),
                                         channels: Int64(channels), activation: activation, stride: Int32(stride))
        withUnsafePointer(to: &conv) { conv in
            // Whole output rows per thread: they read the input (and each its own residual row) and write only themselves.
            _ = OpenMPParallel.all(count: batch * outHeight, minimumPerThread: max(1, 4096 / max(1, outWidth * channels))) { r in
                pneumo_depthwise_conv_run(conv, Int64(r.lowerBound), Int64(r.upperBound))
                return true
            }
        }
    }
}

extension DepthwiseConv3x3: ArenaKernel {}
