import GraphCore
import CKernels

/// How our own INT8 kernels (`DepthwiseConv3x3Int8`, `ImageConv3x3Int8`) store a value.
package enum Int8Storage: Sendable { case u8, s8, f32 }

/// What our INT8 kernels do with a convolution's integer sums (`Sources/CKernels/include/int8_epilogue.h`): scale per
/// output channel, bias, ReLU or ReLU6, then the output grid or float32.
package struct Int8Epilogue: @unchecked Sendable {
    let scales: AlignedBuffer, bias: AlignedBuffer?
    let output: Int8Storage
    let inverseOutputScale: Float
    let activation: Int32

    /// - Parameters:
    ///   - scales: `[channels]`, the source's scale times each channel's weight scale.
    ///   - bias: `[channels]` or nil; copied.
    ///   - outputScale: the output grid's step (integer outputs only).
    init(channels: Int, scales: [Float], bias: [Float]?, relu: Bool, relu6: Bool, output: Int8Storage, outputScale: Float?, what: String) throws {
        guard scales.count == channels, bias.map({ $0.count == channels }) ?? true,
              output == .f32 || (outputScale.map { $0 > 0 && $0.isFinite } ?? false) else {
            throw EngineError.unsupported(what, "needs \(channels) scales (and biases), and a positive output scale for an integer output")
        }
        (self.scales, self.bias, self.output) = (Self.copy(scales), bias.map(Self.copy), output)
        inverseOutputScale = output == .f32 ? 1 : 1 / outputScale!
        activation = relu6 ? 2 : relu ? 1 : 0
    }

    /// The C struct (pointing into this value's buffers, which must outlive its use).
    var c: pneumo_int8_epilogue {
        pneumo_int8_epilogue(scales: UnsafePointer(scales.pointer.assumingMemoryBound(to: Float.self)),
                             bias: bias.map { UnsafePointer($0.pointer.assumingMemoryBound(to: Float.self)) },
                             inverse_output_scale: inverseOutputScale, activation: activation,
                             output_type: output == .f32 ? 0 : output == .u8 ? 1 : 2)
    }

    private static func copy(_ values: [Float]) -> AlignedBuffer {
        let b = AlignedBuffer(byteCount: values.count * MemoryLayout<Float>.size)
        values.withUnsafeBytes { b.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return b
    }
}

/// A batch split into slots of scratch, one image range each: a thread runs its slots one after another, so a team
/// smaller or larger than at compile time stays correct (as `SeparableConv`).
struct Int8ImageSlots {
    let batch: Int, slots: Int, slotBytes: Int
    var workspaceBytes: Int { slots * slotBytes }

    init(batch: Int, scratchFloats: Int64) {
        self.batch = batch
        slots = max(1, min(DNNLContext.threadCount, batch))
        slotBytes = (Int(scratchFloats) * MemoryLayout<Float>.size + 63) / 64 * 64
    }

    /// Runs `body(first, end, scratch)` for each slot's images.
    func run(_ workspace: UnsafeMutableRawPointer, _ body: (Int64, Int64, UnsafeMutablePointer<Float>) -> Void) {
        let (batch, slots, slotBytes) = (batch, slots, slotBytes)
        _ = OpenMPParallel.all(count: slots, minimumPerThread: 1) { range in
            for s in range {
                body(Int64(s * batch / slots), Int64((s + 1) * batch / slots), (workspace + s * slotBytes).assumingMemoryBound(to: Float.self))
            }
            return true
        }
    }
}
