import GraphCore
import CKernels

/// An INT8 plan's 3×3 depthwise convolution (groups = C = K), stride 1 or 2, padding 1, run by our own kernel
/// (`Sources/CKernels/depthwise_int8.c`): u8 or s8 input, u8, s8 or float32 output, NHWC, in the plan's arithmetic
/// (sums of integers, then `sum · scale + bias`, ReLU or ReLU6, and the output grid; the header states it).
///
/// Without VNNI oneDNN's int8 depthwise kernels ran PneumoNet's small maps at 6–12 GMAC/s on one core; this one widens
/// each image to float32 integers (exact: the sums stay below 2^24) and runs the float32 depthwise kernel on them
/// (`bench/README.md`, "INT8 depthwise convolutions").
///
/// # Shapes and layouts
/// input `[N, H, W, C]` (1 byte an element), output `[N, Ho, Wo, C]` (`outHeight`, `outWidth`) of the output type; `C` a
/// multiple of the float32 build's vector (16 for AVX-512, 8 for AVX2: a count of 8 takes the AVX2 build anywhere).
package final class DepthwiseConv3x3Int8: @unchecked Sendable {
    package let batch: Int, height: Int, width: Int, channels: Int, stride: Int
    package var outHeight: Int { (height - 1) / stride + 1 }
    package var outWidth: Int { (width - 1) / stride + 1 }
    package let isa: KernelISA
    package var workspaceBytes: Int { slots.workspaceBytes }

    private let input: Int8Storage
    private let epilogue: Int8Epilogue
    /// `[9][C]` integers.
    private let weights: AlignedBuffer
    /// Each thread widens its images into a slot of its own.
    private let slots: Int8ImageSlots

    /// The build that takes `channels` here: the widest, else AVX2; nil when none.
    package static func isa(channels: Int) -> KernelISA? {
        guard let best = KernelISA.best else { return nil }
        return [best, .avx2].first { $0.isSupported && pneumo_depthwise_int8_applies($0.code, Int64(channels)) != 0 }
    }

    /// Whether the kernel takes this convolution: the float32 kernel's shape (`DepthwiseConv3x3.isDepthwise3x3`) and a
    /// build for `C`.
    package static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        DepthwiseConv3x3.isDepthwise3x3(input: input, weight: weight, a) && isa(channels: input[1]) != nil
    }

    /// - Parameters:
    ///   - integers: `[C, 1, 3, 3]` row-major, whole numbers with |k| ≤ 127.
    ///   - scales, bias, outputScale: the epilogue's (`Int8Epilogue`).
    ///   - isa: the float32 kernel's build (by default `isa(channels:)`'s).
    package init(batch: Int, height: Int, width: Int, channels: Int, stride: Int, integers: [Float], scales: [Float], bias: [Float]?,
                 relu: Bool, relu6: Bool = false, input: Int8Storage, output: Int8Storage, outputScale: Float? = nil, isa: KernelISA? = nil) throws {
        guard let isa = isa ?? Self.isa(channels: channels), isa.isSupported, pneumo_depthwise_int8_applies(isa.code, Int64(channels)) != 0,
              batch > 0, height > 0, width > 0, stride == 1 || stride == 2, input != .f32, integers.count == 9 * channels else {
            throw EngineError.unsupported("int8 depthwise conv", "needs an AVX2 CPU, channels a multiple of 8, sizes positive, stride 1 or 2, "
                                          + "u8 or s8 input and \(channels) · 9 weights; got N\(batch) C\(channels) \(height)×\(width) stride \(stride)")
        }
        (self.batch, self.height, self.width, self.channels, self.stride, self.isa, self.input) = (batch, height, width, channels, stride, isa, input)
        epilogue = try Int8Epilogue(channels: channels, scales: scales, bias: bias, relu: relu, relu6: relu6, output: output,
                                    outputScale: outputScale, what: "int8 depthwise conv")
        weights = integers.withUnsafeBufferPointer { DepthwiseConv3x3.pack($0.baseAddress!, channels: channels) }
        var probe = pneumo_depthwise_int8()
        (probe.height, probe.width, probe.channels, probe.stride) = (Int64(height), Int64(width), Int64(channels), Int32(stride))
        slots = Int8ImageSlots(batch: batch, scratchFloats: pneumo_depthwise_int8_scratch_floats(&probe))
    }

    package static let kernelName = "depthwise_conv3x3_int8"
    package var implementation: String { "\(Self.kernelName):\(isa.rawValue)" }

    /// `input` and `output` hold the bytes of their storage (an INT8 plan's integer buffers), whatever the pointer type.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        guard residual == nil else { throw EngineError.invalid("int8 depthwise conv", "takes no residual") }
        var conv = pneumo_depthwise_int8(
            isa: isa.code, input: UnsafeRawPointer(input), output: UnsafeMutableRawPointer(output),
            weights: UnsafePointer(weights.pointer.assumingMemoryBound(to: Float.self)), epilogue: epilogue.c,
            height: Int64(height), width: Int64(width), channels: Int64(channels), input_signed: self.input == .s8 ? 1 : 0, stride: Int32(stride))
        withUnsafePointer(to: &conv) { conv in slots.run(workspace.pointer) { pneumo_depthwise_int8_run(conv, $0, $1, $2) } }
    }
}

extension DepthwiseConv3x3Int8: ArenaKernel {}
