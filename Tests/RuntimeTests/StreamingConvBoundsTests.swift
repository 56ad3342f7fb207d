import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// The weight-streaming kernel stays inside the buffers the Swift side gives it, on every pixel count it takes (1 to
/// 16: AVX2's passes of 4 pixels and every lane left unused, AVX-512's 4-, 8- and 16-pixel groups): input,
/// padded-input workspace, output and residual each sit between 256-byte guard bands of a NaN bit pattern that must
/// come back unchanged; the output must match the plain Swift convolution (plus bias, residual, ReLU) to 1e-4 of
/// its largest magnitude. One row of pixels (`1×p`, all nine taps) and `p` images of one pixel (the centre tap alone,
/// pixels one padded image apart); 32 and 64 output channels (AVX-512's wider weight groups).
@Suite(.enabled(if: StreamingConv.isAvailable, "the weight-streaming kernel needs AVX-512F or AVX2 + FMA"))
struct StreamingConvBoundsTests {
    /// `count` floats between two guard bands.
    final class Guarded {
        static let band = 64   // floats: a whole pixel of 64 channels, and the floats stay 64-byte aligned
        static let pattern: UInt32 = 0x7FC0_DEAD
        let buffer: AlignedBuffer
        let count: Int

        init(count: Int) {
            self.count = count
            buffer = AlignedBuffer(byteCount: (count + 2 * Self.band) * MemoryLayout<Float>.size)
            buffer.pointer.initializeMemory(as: UInt32.self, repeating: Self.pattern, count: count + 2 * Self.band)
        }

        var floats: UnsafeMutablePointer<Float> { buffer.pointer.assumingMemoryBound(to: Float.self) + Self.band }

        /// Guard floats that changed (none when the kernel stayed inside).
        var changedGuards: Int {
            let words = buffer.pointer.assumingMemoryBound(to: UInt32.self)
            let guards = Array(0..<Self.band) + Array((Self.band + count)..<(2 * Self.band + count))
            return guards.filter { words[$0] != Self.pattern }.count
        }

        func copy(from t: Tensor) {
            precondition(t.count == count)
            floats.update(from: t.rawPointer.assumingMemoryBound(to: Float.self), count: count)
        }
    }

    @Test(arguments: KernelISA.allCases.filter(\.isSupported), [32, 64])
    func staysInsideItsBuffersAtEveryPixelCount(isa: KernelISA, outChannels k: Int) throws {
        let c = 8
        for pixels in 1...16 {
            for (batch, width) in [(1, pixels), (pixels, 1)] {
                for inPlace in [false, true] {
                    try check(isa: isa, batch: batch, channels: c, outChannels: k, width: width, residualInPlace: inPlace)
                }
            }
        }
    }

    private func check(isa: KernelISA, batch: Int, channels c: Int, outChannels k: Int, width: Int, residualInPlace: Bool) throws {
        let a = Conv2dAttributes(padding: Pair(1))
        var rng = SeededRandom(seed: UInt64(31 + batch * 17 + width))
        let x = Tensor.randomNormal([batch, c, 1, width], using: &rng)
        let weight = Tensor.randomNormal([k, c, 3, 3], std: 0.2, using: &rng)
        let bias = Tensor.randomNormal([k], std: 0.5, using: &rng)
        let reference = try ReferenceBackend().conv2d(x, weight: weight, bias: nil, a)
        let residual = Tensor.randomNormal(reference.shape, using: &rng)
        let expected = StreamingConvTests.fused(reference, bias: bias, residual: residual, relu: true)

        let conv = try StreamingConv(batch: batch, height: 1, width: width, inChannels: c, outChannels: k, kernel: Pair(3), stride: Pair(1),
                                     padding: a.padding, weight: weight.rawPointer.assumingMemoryBound(to: Float.self),
                                     bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)), relu: true, isa: isa)
        let input = Guarded(count: x.count), output = Guarded(count: reference.count)
        let workspace = Guarded(count: conv.workspaceBytes / MemoryLayout<Float>.size)
        input.copy(from: x.converted(to: .channelsLast))
        let res = Guarded(count: reference.count)
        res.copy(from: residual.converted(to: .channelsLast))
        if residualInPlace { output.copy(from: residual.converted(to: .channelsLast)) }
        let bound = try conv.bind(workspace: UnsafeMutableRawPointer(workspace.floats))
        try conv.run(input: input.floats, output: output.floats, residual: UnsafePointer(residualInPlace ? output.floats : res.floats),
                     workspace: bound)

        let what = "\(isa) N\(batch) 1×\(width) K\(k)\(residualInPlace ? " in place" : "")"
        for (name, g) in [("input", input), ("workspace", workspace), ("output", output), ("residual", res)] {
            #expect(g.changedGuards == 0, "\(what): \(g.changedGuards) guard floats around the \(name) changed")
        }
        let out = Tensor(uninitialized: reference.shape, layout: .channelsLast)
        out.rawPointer.copyMemory(from: output.floats, byteCount: reference.count * MemoryLayout<Float>.size)
        expectClose(out.converted(to: .rowMajor).scalars, expected, what)
        withExtendedLifetime((weight, bias)) {}
    }
}
