import Testing
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// The resize + convolution kernel (`ResizeConv`, each build this CPU runs: AVX-512F, AVX2 + FMA) against the plain Swift
/// bilinear resize and convolution run one after the other (`ReferenceBackend.resizeBilinear`, whose semantics
/// `PeerTests.resizeMatchesPyTorchSemantics` checks against ONNX Runtime, then `ReferenceBackend.conv2d`, plus bias, residual
/// and ReLU written out), and whole plans with it against plans without it and the interpreter. Tolerance: 1e-4 relative
/// to the output's largest magnitude, the runtime's fp32 bound; the kernel sums the same products regrouped (composite
/// weights made in double precision), measured ~1e-6 here. Skipped on CPUs without AVX2, where plans never take it.
@Suite(.enabled(if: ResizeConv.isAvailable, "the resize + convolution kernel needs AVX-512F or AVX2 + FMA"))
struct ResizeConvTests {
    struct Shape: CustomTestStringConvertible {
        let batch: Int, channels: Int, height: Int, width: Int, resized: Pair, outChannels: Int, kernel: Int, stride: Int, padding: Int
        var testDescription: String {
            "N\(batch) C\(channels) \(height)×\(width)→\(resized.h)×\(resized.w) K\(outChannels) k\(kernel) s\(stride) p\(padding)"
        }
    }

    enum Fused: String, CaseIterable { case none, biasReLU, biasResidualReLU, residualInPlace }

    /// The spec baseline's ×3.5 and 7×7 stride 2 (at 16 → 56 px), integer and unequal factors, a kernel larger than the
    /// resized map's border rows (rows reading padding alone), downsampling, blocks of pixels left partly empty (output
    /// counts that are no multiple of 6, 8 or 12), both widths of the AVX-512 build (K 16 and 48: 16-channel blocks; K 64:
    /// 32-channel blocks), and batches of several images.
    @Test(arguments: KernelISA.allCases.filter(\.isSupported), [
        Shape(batch: 1, channels: 3, height: 16, width: 16, resized: Pair(56), outChannels: 64, kernel: 7, stride: 2, padding: 3),
        Shape(batch: 2, channels: 3, height: 16, width: 16, resized: Pair(56), outChannels: 16, kernel: 7, stride: 2, padding: 3),
        Shape(batch: 3, channels: 2, height: 5, width: 7, resized: Pair(12, 9), outChannels: 32, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 4, height: 8, width: 8, resized: Pair(16), outChannels: 48, kernel: 3, stride: 1, padding: 0),
        Shape(batch: 1, channels: 1, height: 3, width: 3, resized: Pair(10), outChannels: 16, kernel: 5, stride: 2, padding: 4),
        Shape(batch: 2, channels: 3, height: 12, width: 12, resized: Pair(7), outChannels: 16, kernel: 3, stride: 2, padding: 1),
    ])
    func matchesReferenceResizeThenConvolution(isa: KernelISA, shape s: Shape) throws {
        let a = Conv2dAttributes(stride: Pair(s.stride), padding: Pair(s.padding))
        var rng = SeededRandom(seed: 31)
        let x = Tensor.randomNormal([s.batch, s.channels, s.height, s.width], using: &rng)
        let weight = Tensor.randomNormal([s.outChannels, s.channels, s.kernel, s.kernel], std: 0.1, using: &rng)
        let bias = Tensor.randomNormal([s.outChannels], std: 0.5, using: &rng)
        let reference = try ReferenceBackend().conv2d(try ReferenceBackend().resizeBilinear(x, height: s.resized.h, width: s.resized.w),
                                                      weight: weight, bias: nil, a)
        let outShape = reference.shape
        let residual = Tensor.randomNormal(outShape, using: &rng)
        let plane = outShape[2] * outShape[3]
        let xNHWC = x.converted(to: .channelsLast)
        let (biases, residuals) = (bias.scalars, residual.scalars)   // once: `scalars` copies the tensor
        for fused in Fused.allCases {
            let hasBias = fused != .none, hasResidual = fused == .biasResidualReLU || fused == .residualInPlace
            var expected = reference.scalars
            for i in expected.indices {
                if hasBias { expected[i] += biases[(i / plane) % s.outChannels] }
                if hasResidual { expected[i] += residuals[i] }
                if fused != .none { expected[i] = max(expected[i], 0) }
            }
            let conv = try ResizeConv(batch: s.batch, height: s.height, width: s.width, channels: s.channels, resized: s.resized,
                                      outChannels: s.outChannels, kernel: Pair(s.kernel), stride: a.stride, padding: a.padding,
                                      weight: weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self),
                                      bias: hasBias ? UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)) : nil,
                                      relu: fused != .none, isa: isa)
            #expect(conv.implementation.hasPrefix("resize_conv:\(isa.rawValue)_"))
            #expect([conv.outHeight, conv.outWidth] == Array(outShape[2...]))
            let bound = try conv.bind(workspace: AlignedBuffer(byteCount: 64).pointer)
            let res = residual.converted(to: .channelsLast)
            let out = fused == .residualInPlace ? res : Tensor(uninitialized: outShape, layout: .channelsLast)
            try conv.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                         residual: hasResidual ? UnsafePointer(res.rawPointer.assumingMemoryBound(to: Float.self)) : nil, workspace: bound)
            expectClose(out.converted(to: .rowMajor).scalars, expected, "\(isa) \(s.testDescription) \(fused)")
            withExtendedLifetime(bias) {}
        }
    }

    /// The spec baseline's pair (64 → 224, then 7×7 stride 2, padding 3): each output pixel reads 4 × 4 source pixels
    /// (48 taps with 3 channels, against 147 on the resized image), and its rows fall into 13 classes: seven that repeat
    /// every seven rows, three at each border.
    @Test func baselineGeometryReadsFourByFourSourcePixels() throws {
        let w = [Float](repeating: 1, count: 64 * 3 * 49)
        let conv = try w.withUnsafeBufferPointer {
            try ResizeConv(batch: 1, height: 64, width: 64, channels: 3, resized: Pair(224), outChannels: 64, kernel: Pair(7), stride: Pair(2),
                           padding: Pair(3), weight: $0.baseAddress!, bias: nil, relu: true)
        }
        #expect(conv.window == Pair(4))
        #expect(conv.classes == Pair(13), "\(conv.classes)")
        #expect(conv.weights.byteCount == conv.classes.h * conv.classes.w * 64 * 48 * 4)
        #expect(ResizeConv.applies(input: [1, 3, 64, 64], resized: Pair(224), weight: [64, 3, 7, 7], Conv2dAttributes(stride: Pair(2), padding: Pair(3))))
    }

    @Test func appliesOnlyToChannelsOf16AndWindowsNoLargerThanTheKernel() {
        let a = Conv2dAttributes(stride: Pair(2), padding: Pair(3))
        #expect(!ResizeConv.applies(input: [1, 3, 64, 64], resized: Pair(224), weight: [24, 3, 7, 7], a))   // K not a multiple of 16
        #expect(!ResizeConv.applies(input: [1, 4, 64, 64], resized: Pair(224), weight: [64, 2, 7, 7],
                                    Conv2dAttributes(stride: Pair(2), padding: Pair(3), groups: 2)))
        #expect(!ResizeConv.applies(input: [1, 3, 64, 64], resized: Pair(224), weight: [64, 3, 7, 7],
                                    Conv2dAttributes(stride: Pair(2), padding: Pair(3), dilation: Pair(2))))
        // Downsampling 64 → 16 with a 3×3 kernel reads 9 × 9 source pixels: the resized image is the cheaper one.
        #expect(!ResizeConv.applies(input: [1, 3, 64, 64], resized: Pair(16), weight: [16, 3, 3, 3], Conv2dAttributes(padding: Pair(1))))
        // 64 → 223: the rows' weights repeat only every 223 rows, so nearly every pair of rows and columns has its own kernel.
        #expect(!ResizeConv.applies(input: [1, 3, 64, 64], resized: Pair(223), weight: [64, 3, 7, 7], a))
    }

    /// The spec baseline's shape at width 0.25 and 16 → 56 px (batch-norm trained away from the identity, so the folded
    /// convolution has a bias and its ReLU): plans with the kernel agree with all-direct plans and with the interpreter, at
    /// batch 1 and 3, intra-op and batch-split; `.auto` keeps the family only where the whole call is faster, and
    /// computes the same either way.
    @Test(arguments: [(1, PlanParallelism.intraOp), (3, .intraOp), (3, .batchSplit)])
    func baselinePlanWithResizeConvAgrees(run: (batch: Int, parallelism: PlanParallelism)) throws {
        var m = try ModelGraph(ResNet18(inChannels: 3, width: 0.25, upsampleTo: 56), inputShape: [4, 3, 16, 16], seed: 3)
        let executor = Executor(graph: m.graph, backend: try DNNLBackend())
        var rng = SeededRandom(seed: 9)
        _ = try executor.forward(feeds: ["image": Tensor.randomNormal([4, 3, 16, 16], using: &rng)], parameters: &m.parameters,
                                 mode: .training, rng: &rng)
        let x = Tensor.randomNormal([run.batch, 3, 16, 16], using: &rng)
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
        let (on, output) = try runTracked(x) {
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: run.parallelism, convolutions: .resizeConv)
        }
        let fused = on.implementations.filter { $0.implementation.hasPrefix(ResizeConv.kernelName) }
        #expect(fused.count == 1 && on.convolutionCounts.byName["resize-conv"] == 1, "\(on.implementations.map(\.implementation))")
        #expect(on.summary.contains("1 resize-conv"), "\(on.summary)")
        #expect(!on.implementations.contains { $0.implementation.contains("resampling") })
        #expect(off.convolutionCounts.byName["resize-conv"] == 0)
        let reference = try off.run(x).scalars
        expectClose(output.scalars, reference, "resize-conv vs direct, batch \(run.batch), \(run.parallelism)")
        expectClose(try on.run(x).scalars, reference, "second run")
        var p = m.parameters
        let interpreted = try executor.forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
        expectClose(try on.run(x).scalars, interpreted.converted(to: .rowMajor).scalars, "resize-conv plan vs the interpreter")
        if run.batch == 1 {
            let auto = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .auto)
            #expect(auto.parallelismReason.contains("1 resize-conv convolutions: with"), "\(auto.parallelismReason)")
            expectClose(try auto.run(x).scalars, reference, "auto vs direct")
        }
    }
}
