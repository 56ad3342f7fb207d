import Testing
@testable import CPUBackend
import CKernels
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// The weight-streaming kernel (`StreamingConv`, each build this CPU runs: AVX-512F, AVX2 + FMA) against the plain Swift convolution
/// (`ReferenceBackend.conv2d`, plus bias, residual and ReLU written out), and whole plans with it against plans
/// without it and the interpreter. Tolerance: 1e-4 relative to the output's largest magnitude, the runtime's fp32
/// bound; the kernel only sums in another order (its differences here are ~1e-6). Skipped on CPUs without AVX2,
/// where plans never take it.
@Suite(.enabled(if: StreamingConv.isAvailable, "the weight-streaming kernel needs AVX-512F or AVX2 + FMA"))
struct StreamingConvTests {
    struct Shape: CustomTestStringConvertible {
        let batch: Int, channels: Int, outChannels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int
        var testDescription: String { "N\(batch) C\(channels) K\(outChannels) \(height)×\(width) k\(kernel) s\(stride) p\(padding)" }
    }

    enum Fused: String, CaseIterable { case none, biasReLU, biasResidualReLU, residualInPlace }

    /// Each weight group's width (16 pixels × 16 channels, 8 × 32, 4 × 64), AVX2's pixel blocks, pixel counts that leave lanes unused
    /// (15, 3), stride 2 with 3×3 and 1×1 kernels, no padding, batches of several images, odd channel counts, and
    /// 1×1 maps (the centre tap alone) and stride 2 onto one pixel (four taps).
    @Test(arguments: KernelISA.allCases.filter(\.isSupported), [
        Shape(batch: 1, channels: 32, outChannels: 48, height: 4, width: 4, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 24, outChannels: 64, height: 2, width: 2, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 2, channels: 16, outChannels: 32, height: 2, width: 2, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 32, outChannels: 16, height: 8, width: 8, kernel: 3, stride: 2, padding: 1),
        Shape(batch: 1, channels: 32, outChannels: 64, height: 8, width: 8, kernel: 1, stride: 2, padding: 0),
        Shape(batch: 1, channels: 40, outChannels: 80, height: 3, width: 5, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 3, channels: 17, outChannels: 32, height: 1, width: 1, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 8, outChannels: 128, height: 4, width: 4, kernel: 3, stride: 1, padding: 0),
        Shape(batch: 2, channels: 32, outChannels: 64, height: 2, width: 2, kernel: 3, stride: 2, padding: 1),
        // AVX2's passes of 6 and 4 pixels: 10 → 6 + 4, 7 → 6 + 1, 5 → one pass of 6 with a lane unused, 12 → 6 + 6.
        Shape(batch: 1, channels: 16, outChannels: 32, height: 2, width: 5, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 24, outChannels: 16, height: 1, width: 7, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 8, outChannels: 16, height: 1, width: 5, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 3, channels: 16, outChannels: 48, height: 2, width: 2, kernel: 3, stride: 1, padding: 1),
    ])
    func matchesReferenceConvolution(isa: KernelISA, shape s: Shape) throws {
        let (a, x, weight, bias, residual, reference) = try Self.problem(s, seed: 21)
        let outShape = reference.shape
        #expect(StreamingConv.applies(input: x.shape, weight: weight.shape, output: outShape, a))
        let xNHWC = x.converted(to: .channelsLast)
        for fused in Fused.allCases {
            let hasBias = fused != .none, hasResidual = fused == .biasResidualReLU || fused == .residualInPlace
            let expected = Self.fused(reference, bias: hasBias ? bias : nil, residual: hasResidual ? residual : nil, relu: fused != .none)
            let conv = try StreamingConv(batch: s.batch, height: s.height, width: s.width, inChannels: s.channels, outChannels: s.outChannels,
                                         kernel: Pair(s.kernel), stride: a.stride, padding: a.padding,
                                         weight: weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self),
                                         bias: hasBias ? UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)) : nil,
                                         relu: fused != .none, isa: isa)
            #expect(conv.implementation.hasPrefix("streaming_conv:\(isa.rawValue)_"))
            let workspace = AlignedBuffer(byteCount: conv.workspaceBytes)
            // Stale data in the shared scratchpad must not leak into the padding.
            workspace.pointer.initializeMemory(as: UInt8.self, repeating: 0x7f, count: conv.workspaceBytes)
            let bound = try conv.bind(workspace: workspace.pointer)
            let res = residual.converted(to: .channelsLast)
            let out = fused == .residualInPlace ? res : Tensor(uninitialized: outShape, layout: .channelsLast)
            try conv.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                         residual: hasResidual ? UnsafePointer(res.rawPointer.assumingMemoryBound(to: Float.self)) : nil, workspace: bound)
            expectClose(out.converted(to: .rowMajor).scalars, expected, "\(isa) \(s.testDescription) \(fused)")
            withExtendedLifetime((bias, workspace)) {}
        }
    }

    /// The AVX2 build beyond 16 output pixels, up to its limit (`PNEUMO_STREAMING_AVX2_MAX_PIXELS`): ResNet-18's layer1
    /// and layer2 maps at batch 1 (16×16, 8×8), stride 2 with 3×3 and 1×1 kernels, and several images whose 70 pixels
    /// end in a partial pass. Bias, residual in place and ReLU; nothing written past the output or the workspace (a
    /// guard band after each). One more pixel than the limit is refused.
    @Test(.enabled(if: KernelISA.avx2.isSupported, "needs AVX2, FMA and F16C"), arguments: [
        Shape(batch: 1, channels: 16, outChannels: 32, height: 16, width: 16, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 32, outChannels: 16, height: 8, width: 8, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 16, outChannels: 32, height: 16, width: 16, kernel: 3, stride: 2, padding: 1),
        Shape(batch: 1, channels: 16, outChannels: 48, height: 16, width: 16, kernel: 1, stride: 2, padding: 0),
        Shape(batch: 2, channels: 8, outChannels: 16, height: 5, width: 7, kernel: 3, stride: 1, padding: 1),
    ])
    func avx2MatchesReferenceOnLargerMaps(shape s: Shape) throws {
        let (a, x, weight, bias, residual, reference) = try Self.problem(s, seed: 23)
        let expected = Self.fused(reference, bias: bias, residual: residual, relu: true)
        let conv = try StreamingConv(batch: s.batch, height: s.height, width: s.width, inChannels: s.channels, outChannels: s.outChannels,
                                     kernel: Pair(s.kernel), stride: a.stride, padding: a.padding,
                                     weight: weight.rawPointer.assumingMemoryBound(to: Float.self),
                                     bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)), relu: true, isa: .avx2)
        let guardBytes = 256, outBytes = residual.count * MemoryLayout<Float>.size
        let output = AlignedBuffer(byteCount: outBytes + guardBytes), workspace = AlignedBuffer(byteCount: conv.workspaceBytes + guardBytes)
        let res = residual.converted(to: .channelsLast)
        output.pointer.copyMemory(from: res.rawPointer, byteCount: outBytes)
        (output.pointer + outBytes).initializeMemory(as: UInt8.self, repeating: 0xA5, count: guardBytes)
        (workspace.pointer + conv.workspaceBytes).initializeMemory(as: UInt8.self, repeating: 0xA5, count: guardBytes)
        let out = output.pointer.assumingMemoryBound(to: Float.self)
        let xNHWC = x.converted(to: .channelsLast)
        try conv.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: out,
                     residual: UnsafePointer(out), workspace: try conv.bind(workspace: workspace.pointer))
        let (plane, c) = (reference.shape[2] * reference.shape[3], s.outChannels)
        let nchw = (0..<residual.count).map { i in out[(i / (c * plane) * plane + i % plane) * c + (i / plane) % c] }   // from NHWC
        expectClose(nchw, expected, s.testDescription)
        #expect(UnsafeRawBufferPointer(start: output.pointer + outBytes, count: guardBytes).allSatisfy { $0 == 0xA5 }, "written past the output")
        #expect(UnsafeRawBufferPointer(start: workspace.pointer + conv.workspaceBytes, count: guardBytes).allSatisfy { $0 == 0xA5 },
                "written past the workspace")
        let limit = Int(PNEUMO_STREAMING_AVX2_MAX_PIXELS)
        #expect(pneumo_streaming_conv_group(KernelISA.avx2.code, Int64(limit), 16) == 1)
        #expect(pneumo_streaming_conv_group(KernelISA.avx2.code, Int64(limit + 1), 16) == 0)
        withExtendedLifetime((weight, bias, res, xNHWC)) {}
    }

    /// A seeded convolution of `s`'s shape: input N(0, 1), weights N(0, 0.1²), bias N(0, 0.5²), a residual N(0, 1) of the
    /// output's shape, and the reference convolution's output without bias.
    static func problem(_ s: Shape, seed: UInt64) throws
        -> (attributes: Conv2dAttributes, x: Tensor, weight: Tensor, bias: Tensor, residual: Tensor, reference: Tensor) {
        let a = Conv2dAttributes(stride: Pair(s.stride), padding: Pair(s.padding))
        var rng = SeededRandom(seed: seed)
        let x = Tensor.randomNormal([s.batch, s.channels, s.height, s.width], using: &rng)
        let weight = Tensor.randomNormal([s.outChannels, s.channels, s.kernel, s.kernel], std: 0.1, using: &rng)
        let bias = Tensor.randomNormal([s.outChannels], std: 0.5, using: &rng)
        let reference = try ReferenceBackend().conv2d(x, weight: weight, bias: nil, a)
        return (a, x, weight, bias, Tensor.randomNormal(reference.shape, using: &rng), reference)
    }

    /// A plain convolution's NCHW output `reference` with the kernel's fused epilogue written out: plus `bias` per
    /// channel, plus `residual`, then ReLU.
    static func fused(_ reference: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool) -> [Float] {
        let (plane, channels) = (reference.shape[2] * reference.shape[3], reference.shape[1])
        var expected = reference.scalars
        let (biases, residuals) = (bias?.scalars, residual?.scalars)   // once: `scalars` copies the tensor
        for i in expected.indices {
            if let biases { expected[i] += biases[(i / plane) % channels] }
            if let residuals { expected[i] += residuals[i] }
            if relu { expected[i] = max(expected[i], 0) }
        }
        return expected
    }

    /// Taps that read only padding for every output pixel are left out, weights included: on a 1×1 map a 3×3
    /// convolution keeps its centre (ResNet-18's layer4 at 28 px: 1/9 of its weights).
    @Test func tapsOnPaddingAloneAreLeftOut() throws {
        func used(_ size: Int, stride: Int, batch: Int = 1) throws -> (taps: [Int], floats: Int) {
            let (c, k) = (8, 16)
            let w = [Float](repeating: 1, count: k * c * 9)
            let conv = try w.withUnsafeBufferPointer {
                try StreamingConv(batch: batch, height: size, width: size, inChannels: c, outChannels: k, kernel: Pair(3), stride: Pair(stride),
                                  padding: Pair(1), weight: $0.baseAddress!, bias: nil, relu: false)
            }
            return (conv.usedTaps, conv.weights.byteCount / MemoryLayout<Float>.size)
        }
        #expect(try used(1, stride: 1) == ([4], 16 * 8))
        #expect(try used(1, stride: 1, batch: 4) == ([4], 16 * 8))
        #expect(try used(2, stride: 1).taps == Array(0..<9))
        #expect(try used(2, stride: 2) == ([4, 5, 7, 8], 4 * 16 * 8))   // one output pixel reading rows and columns 0, 1
        #expect(try used(3, stride: 2).taps == Array(0..<9))
    }

    /// At most 16 output pixels with AVX-512, 256 with AVX2 (the build `KernelISA.best` picks).
    @Test func appliesOnlyToFewOutputPixelsAndChannelsOf16() {
        let a = Conv2dAttributes(padding: Pair(1))
        let avx2 = KernelISA.best == .avx2
        #expect(StreamingConv.applies(input: [1, 16, 4, 4], weight: [32, 16, 3, 3], output: [1, 32, 4, 4], a))
        #expect(StreamingConv.applies(input: [4, 16, 2, 2], weight: [32, 16, 3, 3], output: [4, 32, 2, 2], a))
        #expect(StreamingConv.applies(input: [5, 16, 2, 2], weight: [32, 16, 3, 3], output: [5, 32, 2, 2], a) == avx2)   // 20 pixels
        #expect(StreamingConv.applies(input: [1, 16, 5, 5], weight: [32, 16, 3, 3], output: [1, 32, 5, 5], a) == avx2)
        #expect(StreamingConv.applies(input: [1, 16, 16, 16], weight: [32, 16, 3, 3], output: [1, 32, 16, 16], a) == avx2)   // 256
        #expect(!StreamingConv.applies(input: [1, 16, 16, 17], weight: [32, 16, 3, 3], output: [1, 32, 16, 17], a))   // 272
        #expect(!StreamingConv.applies(input: [1, 16, 4, 4], weight: [24, 16, 3, 3], output: [1, 24, 4, 4], a))   // K not a multiple of 16
        #expect(!StreamingConv.applies(input: [1, 16, 4, 4], weight: [32, 8, 3, 3], output: [1, 32, 4, 4],
                                       Conv2dAttributes(padding: Pair(1), groups: 2)))
        #expect(!StreamingConv.applies(input: [1, 16, 4, 4], weight: [32, 16, 3, 3], output: [1, 32, 2, 2],
                                       Conv2dAttributes(padding: Pair(0), dilation: Pair(2))))
    }

    /// ResNet-18 at width 0.25 and 32 px (layer3's 2×2 and layer4's 1×1 maps stream, and more with AVX2; batch-norm trained away from
    /// the identity): plans with the kernel agree with all-direct plans and with the interpreter, at batch 1 and 3,
    /// intra-op and batch-split; its padded input lives in the scratchpad, so the planned bytes stay the peak.
    @Test(arguments: [(1, PlanParallelism.intraOp), (3, .intraOp), (3, .batchSplit)])
    func resnetPlanWithStreamingAgrees(run: (batch: Int, parallelism: PlanParallelism)) throws {
        var m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [4, 1, 32, 32], seed: 3)
        let executor = Executor(graph: m.graph, backend: try DNNLBackend())
        var rng = SeededRandom(seed: 9)
        _ = try executor.forward(feeds: ["image": Tensor.randomNormal([4, 1, 32, 32], using: &rng)], parameters: &m.parameters,
                                 mode: .training, rng: &rng)
        let x = Tensor.randomNormal([run.batch, 1, 32, 32], using: &rng)
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
        let (on, output) = try runTracked(x) {
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: run.parallelism, convolutions: .streaming)
        }
        // Five convolutions per stage: layer3 (2×2 per image) and layer4 (1×1) stream, and at batch 1 layer2 (4×4)
        // too; with AVX2 (up to 256 pixels) also layer2 at batch 3, layer1 (8×8, four convolutions) and at batch 1 the
        // 16×16 stem; a batch-split plan's first slice has at most 2 images.
        let streamed = on.implementations.filter { $0.implementation.hasPrefix(StreamingConv.kernelName) }.count
        let expected = KernelISA.best == .avx2
            ? (run.batch == 1 ? [20] : run.parallelism == .batchSplit ? [19, 20] : [19])
            : (run.batch == 1 ? [15] : run.parallelism == .batchSplit ? [10, 15] : [10])
        #expect(expected.contains(streamed) && on.convolutionCounts.streaming == streamed, "\(on.implementations.map(\.implementation))")
        #expect(on.summary.contains("\(streamed) streaming"), "\(on.summary)")
        #expect(off.convolutionCounts.streaming == 0)
        let reference = try off.run(x).scalars
        expectClose(output.scalars, reference, "streaming vs direct, batch \(run.batch), \(run.parallelism)")
        expectClose(try on.run(x).scalars, reference, "second run (arena and scratchpad reused)")
        var p = m.parameters
        let interpreted = try executor.forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
        expectClose(try on.run(x).scalars, interpreted.converted(to: .rowMajor).scalars, "streaming plan vs the interpreter")
    }

    /// `.auto` keeps the kernel only in a plan that beats the same plan without it, whole, weighing the narrow maps (≤ 4
    /// output pixels: layer3's 2×2 and layer4's 1×1 here) and the wider ones apart (layer2's 4×4; with AVX2 also
    /// layer1's 8×8 and the 16×16 stem), the wider ones after Winograd took those it kept; whatever it keeps computes the same.
    @Test func autoKeepsStreamingOnlyWhenTheWholePlanIsFaster() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 32, 32], seed: 3)
        var rng = SeededRandom(seed: 2)
        let x = Tensor.randomNormal([1, 1, 32, 32], using: &rng)
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
        let auto = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .auto)
        #expect(auto.parallelismReason.contains("10 streaming convolutions: with"), "\(auto.parallelismReason)")
        // Winograd is tried first on the wider maps (layer2's stride-1 convolutions, with AVX2 also layer1's); the rest are the
        // wide family's.
        let widePrefixes = KernelISA.best == .avx2 ? ["layer1", "layer2"] : ["layer2"]
        let winogradOnWide = auto.implementations.filter { step in
            step.implementation.hasPrefix("winograd") && widePrefixes.contains { step.name.hasPrefix($0) }
        }.count
        let wide = (KernelISA.best == .avx2 ? 10 : 5) - winogradOnWide
        #expect(auto.parallelismReason.contains("\(wide) streaming-wide convolutions: with"), "\(auto.parallelismReason)")
        let streamed = auto.implementations.filter { $0.implementation.hasPrefix(StreamingConv.kernelName) }
        #expect([0, wide, 10, 10 + wide].contains(auto.convolutionCounts.streaming) && streamed.count == auto.convolutionCounts.streaming)
        expectClose(try auto.run(x).scalars, try off.run(x).scalars, "auto vs direct")
    }
}
