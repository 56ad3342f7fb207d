import GraphCore
import CKernels

/// An INT8 plan's convolution of a one-channel image (PneumoNet's stem): 3×3, stride 1 or 2, padding 1, run by our own
/// kernel (`Sources/CKernels/image_conv_int8.c`, AVX2 + FMA): u8 or s8 input, u8, s8 or float32 output, NHWC, in the
/// plan's arithmetic (`int8_epilogue.h`).
///
/// Without VNNI oneDNN's int8 kernels pad the one input channel to a block of 8 and ran PneumoNet's stem at ~15 GMAC/s
/// on one core; this one widens each image to float32 integers once and multiplies each pixel by vectors of the output
/// channels' weights (`bench/README.md`, "INT8 kernels of our own").
///
/// # Shapes and layouts
/// input `[N, 1, H, W]` (1 byte an element; with one channel NCHW and NHWC agree), output `[N, Ho, Wo, K]` (`outHeight`,
/// `outWidth`) of the output type; `K` a multiple of 8.
package final class ImageConv3x3Int8: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, outChannels: Int, stride: Int
    package var outHeight: Int { (height - 1) / stride + 1 }
    package var outWidth: Int { (width - 1) / stride + 1 }
    package var workspaceBytes: Int { slots.workspaceBytes }

    private let input: Int8Storage
    private let epilogue: Int8Epilogue
    /// `[9][K]` integers.
    private let weights: AlignedBuffer
    private let slots: Int8ImageSlots

    /// Whether the kernel takes this convolution: one input channel, groups 1, 3×3, stride 1 or 2 (both ways), padding 1,
    /// no dilation, `K` a multiple of 8, and an AVX2 + FMA CPU.
    package static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        input.count == 4 && weight.count == 4 && input[1] == 1 && a.groups == 1 && weight[1] == 1 && weight[2] == 3 && weight[3] == 3
            && (a.stride == Pair(1) || a.stride == Pair(2)) && a.padding == Pair(1) && a.dilation == Pair(1)
            && pneumo_image_conv_int8_applies(Int64(weight[0])) != 0
    }

    /// - Parameters:
    ///   - integers: `[K, 1, 3, 3]` row-major, whole numbers with |k| ≤ 127.
    ///   - scales, bias, outputScale: the epilogue's (`Int8Epilogue`).
    package init(batch: Int, height: Int, width: Int, outChannels: Int, stride: Int, integers: [Float], scales: [Float], bias: [Float]?,
                 relu: Bool, relu6: Bool = false, input: Int8Storage, output: Int8Storage, outputScale: Float? = nil) throws {
        guard pneumo_image_conv_int8_applies(Int64(outChannels)) != 0, batch > 0, height > 0, width > 0, stride == 1 || stride == 2,
              input != .f32, integers.count == 9 * outChannels else {
            throw EngineError.unsupported("int8 image conv", "needs an AVX2 + FMA CPU, output channels a multiple of 8, sizes positive, "
                                          + "stride 1 or 2, u8 or s8 input and \(outChannels) · 9 weights; got N\(batch) K\(outChannels) "
                                          + "\(height)×\(width) stride \(stride)")
        }
        (self.batch, self.height, self.width, self.outChannels, self.stride, self.input) = (batch, height, width, outChannels, stride, input)
        epilogue = try Int8Epilogue(channels: outChannels, scales: scales, bias: bias, relu: relu, relu6: relu6, output: output,
                                    outputScale: outputScale, what: "int8 image conv")
        // `[K][9]` → `[9][K]`: the layout of the depthwise kernel's weights.
        weights = integers.withUnsafeBufferPointer { DepthwiseConv3x3.pack($0.baseAddress!, channels: outChannels) }
        var probe = pneumo_image_conv_int8()
        (probe.height, probe.width, probe.out_channels, probe.stride) = (Int64(height), Int64(width), Int64(outChannels), Int32(stride))
        slots = Int8ImageSlots(batch: batch, scratchFloats: pneumo_image_conv_int8_scratch_floats(&probe))
    }

    package static let kernelName = "image_conv3x3_int8"
    package var implementation: String { "\(Self.kernelName):avx2" }

    /// `input` and `output` hold the bytes of their storage (an INT8 plan's integer buffers), whatever the pointer type.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        guard residual == nil else { throw EngineError.invalid("int8 image conv", "takes no residual") }
        var conv = pneumo_image_conv_int8(
            input: UnsafeRawPointer(input), output: UnsafeMutableRawPointer(output),
            weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)), epilogue: epilogue.c,
            height: Int64(height), width: Int64(width), out_channels: Int64(outChannels), input_signed: self.input == .s8 ? 1 : 0,
            stride: Int32(stride))
        withUnsafePointer(to: &conv) { conv in slots.run(workspace.pointer) { pneumo_image_conv_int8_run(conv, $0, $1, $2) } }
    }
}

extension ImageConv3x3Int8: ArenaKernel {}
