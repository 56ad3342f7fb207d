import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport
import CKernels

/// Our INT8 kernels, the depthwise 3×3 (`DepthwiseConv3x3Int8`, each float32 build this CPU runs) and the one-channel
/// image's 3×3 (`ImageConv3x3Int8`), against the arithmetic their headers state, written out here in scalar Swift: integer sums (in `Int`), then `sum · scale + bias`, ReLU or ReLU6,
/// and `rint(y · (1 / step))` clipped to the output type, each a separate float32 operation. Tolerance: none; every
/// value must be equal (the sums are exact in the kernel's float32, and the rest is the same float32 operations).
/// Scales are not powers of two, so that the rounding of each step counts. Plans' use of them is checked against
/// NumPy's fixture chains (`Int8WeightRangeTests`).
@Suite(.enabled(if: DepthwiseConv3x3Int8.isa(channels: 8) != nil, "our INT8 kernels need AVX2 + FMA"))
struct Int8OwnKernelsTests {
    typealias Storage = Int8Storage

    struct Case: CustomTestStringConvertible, Sendable {
        /// `channels`: the depthwise kernel's, or the image kernel's output channels.
        var batch = 1, channels = 16, height = 7, width = 7, stride = 1
        var input = Storage.u8, output = Storage.u8
        var activation = 0   // 0 none, 1 ReLU, 2 ReLU6
        var bias = true
        var testDescription: String {
            "N\(batch) C\(channels) \(height)×\(width) s\(stride) \(input)→\(output) act\(activation)\(bias ? " bias" : "")"
        }
    }

    /// PneumoNet's maps (its stem's 28×28 image to 16 channels; depthwise 14×14×32, 7×7×64, 4×4×128), 1×1 and one-row
    /// maps, odd sizes and widths with leftovers after blocks of four pixels, several images (split over the threads), every
    /// pairing of input and output types, both strides, each activation.
    static let cases: [Case] = [
        Case(batch: 2, channels: 16, height: 28, width: 28, input: .s8, activation: 1),
        Case(channels: 32, height: 14, width: 14, activation: 1),
        Case(batch: 3, channels: 64, height: 7, width: 7, activation: 1),
        Case(batch: 2, channels: 128, height: 4, width: 4, stride: 2, activation: 2),
        Case(batch: 2, channels: 16, height: 1, width: 1, input: .s8, output: .s8),
        Case(channels: 8, height: 1, width: 9, input: .s8, output: .u8, activation: 1, bias: false),
        Case(batch: 5, channels: 24, height: 6, width: 5, stride: 2, output: .s8, activation: 1),
        Case(channels: 16, height: 9, width: 21, stride: 2, input: .s8, output: .f32, activation: 2),
        Case(batch: 2, channels: 32, height: 5, width: 3, output: .f32),
    ]

    /// nil: the image kernel; else the depthwise kernel's build.
    static let kernels: [KernelISA?] = [nil] + KernelISA.allCases.filter(\.isSupported)

    @Test(arguments: kernels, cases)
    func matchesTheStatedArithmetic(depthwise isa: KernelISA?, c: Case) throws {
        if let isa, pneumo_depthwise_int8_applies(isa.code, Int64(c.channels)) == 0 { return }   // AVX-512's build: multiples of 16
        let inChannels = isa == nil ? 1 : c.channels
        var rng = SeededRandom(seed: UInt64(31 + c.channels + c.height))
        let (n, ch, h, w, s) = (c.batch, c.channels, c.height, c.width, c.stride)
        let (ho, wo) = ((h - 1) / s + 1, (w - 1) / s + 1)
        let (lo, hi) = c.input == .u8 ? (0, 255) : (-128, 127)
        let x = (0..<(n * h * w * inChannels)).map { _ in Int.random(in: lo...hi, using: &rng) }
        // 7-bit weights with ±63 in every channel, as a reduced-range plan stores them; a scale per channel near 1e-3 (no
        // power of two), a bias of either sign, and an output step that makes some values tie, some saturate.
        var k = (0..<(ch * 9)).map { _ in Float(Int.random(in: -63...63, using: &rng)) }
        for o in 0..<ch { k[o * 9 + Int.random(in: 0..<9, using: &rng)] = o % 2 == 0 ? 63 : -63 }
        let scales = (0..<ch).map { _ in Float.random(in: 0.0007..<0.0013, using: &rng) }
        let bias = c.bias ? (0..<ch).map { _ in Float.random(in: -1...1, using: &rng) } : nil
        let step: Float = 0.0371

        let outputScale = c.output == .f32 ? nil : step
        let kernel: any ArenaKernel = if let isa {
            try DepthwiseConv3x3Int8(batch: n, height: h, width: w, channels: ch, stride: s, integers: k, scales: scales, bias: bias,
                                     relu: c.activation > 0, relu6: c.activation == 2, input: c.input, output: c.output,
                                     outputScale: outputScale, isa: isa)
        } else {
            try ImageConv3x3Int8(batch: n, height: h, width: w, outChannels: ch, stride: s, integers: k, scales: scales, bias: bias,
                                 relu: c.activation > 0, relu6: c.activation == 2, input: c.input, output: c.output, outputScale: outputScale)
        }
        let bytesOut = n * ho * wo * ch * (c.output == .f32 ? 4 : 1)
        // A guard band after the output and after the workspace: nothing may be written there.
        let guardBytes = 256
        let input = AlignedBuffer(byteCount: x.count), output = AlignedBuffer(byteCount: bytesOut + guardBytes)
        let workspace = AlignedBuffer(byteCount: kernel.workspaceBytes + guardBytes)
        for (i, v) in x.enumerated() { input.pointer.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self) }
        output.pointer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytesOut + guardBytes)
        (workspace.pointer + kernel.workspaceBytes).initializeMemory(as: UInt8.self, repeating: 0xA5, count: guardBytes)
        try kernel.run(input: input.pointer.assumingMemoryBound(to: Float.self), output: output.pointer.assumingMemoryBound(to: Float.self),
                       residual: nil, workspace: try kernel.bind(workspace: workspace.pointer))

        var wrong = 0, saturated = 0, first = ""
        for b in 0..<n { for oy in 0..<ho { for ox in 0..<wo { for o in 0..<ch {
            var acc = 0
            for ky in 0..<3 { for kx in 0..<3 {
                let (iy, ix) = (oy * s + ky - 1, ox * s + kx - 1)
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                acc += x[((b * h + iy) * w + ix) * inChannels + (isa == nil ? 0 : o)] * Int(k[o * 9 + ky * 3 + kx])
            } }
            var y = Float(acc) * scales[o]
            if let bias { y = y + bias[o] }
            if c.activation > 0 { y = max(y, 0) }
            if c.activation == 2 { y = min(y, 6) }
            let at = ((b * ho + oy) * wo + ox) * ch + o
            let got: Float, want: Float
            switch c.output {
            case .f32:
                (got, want) = (output.pointer.load(fromByteOffset: 4 * at, as: Float.self), y)
            case .u8, .s8:
                let t = y * (1 / step)
                let (lo, hi): (Float, Float) = c.output == .u8 ? (0, 255) : (-128, 127)
                let r = t.rounded(.toNearestOrEven)
                if r < lo || r > hi { saturated += 1 }
                want = min(max(r, lo), hi)
                got = c.output == .u8 ? Float(output.pointer.load(fromByteOffset: at, as: UInt8.self))
                                      : Float(output.pointer.load(fromByteOffset: at, as: Int8.self))
            }
            if got != want {
                if wrong == 0 { first = "image \(b) (\(oy), \(ox)) channel \(o): \(got), want \(want)" }
                wrong += 1
            }
        } } } }
        let guards = (0..<guardBytes).filter {
            output.pointer.load(fromByteOffset: bytesOut + $0, as: UInt8.self) != 0xA5
                || workspace.pointer.load(fromByteOffset: kernel.workspaceBytes + $0, as: UInt8.self) != 0xA5
        }
        #expect(guards.isEmpty, "\(guards.count) guard bytes written after the output or the workspace")
        #expect(wrong == 0, "\(isa.map { "depthwise \($0)" } ?? "image") \(c.testDescription): \(wrong) of \(n * ho * wo * ch) differ; first at \(first)")
        // ReLU6 stops u8 outputs at 6 / step = 162 steps: only the others can saturate.
        if c.output != .f32 && !(c.output == .u8 && c.activation == 2) && n * ho * wo * ch > 500 {
            #expect(saturated > 0, "no value saturated: the case tests less than it says")
        }
    }

    @Test func refusesWhatItCannotRun() {
        let k = [Float](repeating: 1, count: 9 * 12), s = [Float](repeating: 1, count: 12)
        // Channels not a multiple of 8; an integer output without a step; a float32 input.
        #expect(throws: EngineError.self) {
            try DepthwiseConv3x3Int8(batch: 1, height: 4, width: 4, channels: 12, stride: 1, integers: k, scales: s, bias: nil,
                                     relu: false, input: .u8, output: .u8, outputScale: 1)
        }
        #expect(throws: EngineError.self) {
            try DepthwiseConv3x3Int8(batch: 1, height: 4, width: 4, channels: 8, stride: 1, integers: Array(k[..<72]), scales: Array(s[..<8]),
                                     bias: nil, relu: false, input: .u8, output: .u8)
        }
        #expect(throws: EngineError.self) {
            try DepthwiseConv3x3Int8(batch: 1, height: 4, width: 4, channels: 8, stride: 1, integers: Array(k[..<72]), scales: Array(s[..<8]),
                                     bias: nil, relu: false, input: .f32, output: .f32)
        }
        #expect(throws: EngineError.self) {
            try ImageConv3x3Int8(batch: 1, height: 4, width: 4, outChannels: 12, stride: 1, integers: k, scales: s, bias: nil,
                                 relu: false, input: .u8, output: .f32)
        }
        #expect(throws: EngineError.self) {
            try ImageConv3x3Int8(batch: 1, height: 4, width: 4, outChannels: 8, stride: 3, integers: Array(k[..<72]), scales: Array(s[..<8]),
                                 bias: nil, relu: false, input: .u8, output: .f32)
        }
    }
}
