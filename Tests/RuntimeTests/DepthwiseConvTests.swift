import Testing
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// Our 3×3 depthwise kernel (`DepthwiseConv3x3`, each build this CPU runs: AVX-512F, AVX2 + FMA) against the plain
/// Swift convolution (`ReferenceBackend.conv2d` with groups = channels, plus bias, residual, ReLU or ReLU6 written
/// out), and whole plans with it against plans without it and the interpreter. Tolerance: 1e-4 relative to the
/// output's largest magnitude, the runtime's fp32 bound (nine products per output: differences here are ~1e-7).
@Suite(.enabled(if: KernelISA.best != nil, "the depthwise kernel needs AVX-512F or AVX2 + FMA"))
struct DepthwiseConvTests {
    enum Fused: String, CaseIterable { case none, biasReLU, biasReLU6, residualInPlace }

    /// PneumoNet's maps (14×14, 7×7, 4×4), 1×1 and one-row or one-column maps (no neighbours), widths with a
    /// four-pixel block and leftovers (6, 9; at stride 2, 14 and 21), several images, channels of two vectors; stride 1
    /// and 2 (MobileNetV2's downsampling depthwise convolutions).
    @Test(arguments: KernelISA.allCases.filter(\.isSupported).flatMap { isa in [1, 2].map { (isa, $0) } },
          [(1, 32, 14, 14), (2, 16, 7, 7), (1, 64, 4, 4), (3, 16, 1, 1), (1, 16, 1, 9), (2, 32, 6, 1), (1, 16, 6, 6), (2, 48, 5, 9),
           (1, 16, 3, 21)])
    func matchesReferenceConvolution(build: (isa: KernelISA, stride: Int), shape: (batch: Int, channels: Int, height: Int, width: Int)) throws {
        let (n, c, h, w) = shape
        let (isa, stride) = build
        let (ho, wo) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        let a = Conv2dAttributes(stride: Pair(stride), padding: Pair(1), groups: c)
        var rng = SeededRandom(seed: 31)
        let x = Tensor.randomNormal([n, c, h, w], using: &rng)
        let weight = Tensor.randomNormal([c, 1, 3, 3], std: 0.3, using: &rng)
        let bias = Tensor.randomNormal([c], std: 0.5, using: &rng)
        let residual = Tensor.randomNormal([n, c, ho, wo], using: &rng)
        #expect(DepthwiseConv3x3.applies(input: x.shape, weight: weight.shape, a))
        let reference = try ReferenceBackend().conv2d(x, weight: weight, bias: nil, a).scalars
        let (biases, residuals) = (bias.scalars, residual.scalars)   // once: `scalars` copies the tensor
        for fused in Fused.allCases {
            var expected = reference
            for i in expected.indices {
                if fused == .biasReLU || fused == .biasReLU6 { expected[i] += biases[(i / (ho * wo)) % c] }
                if fused == .residualInPlace { expected[i] += residuals[i] }
                if fused != .none { expected[i] = max(expected[i], 0) }
                if fused == .biasReLU6 { expected[i] = min(expected[i], 6) }
            }
            let conv = try DepthwiseConv3x3(batch: n, height: h, width: w, channels: c, stride: stride,
                                            weight: weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self),
                                            bias: fused == .biasReLU || fused == .biasReLU6 ? UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)) : nil,
                                            relu: fused != .none, relu6: fused == .biasReLU6, isa: isa)
            #expect(conv.implementation == "depthwise_conv3x3:\(isa.rawValue)")
            // Stale data in the shared scratchpad must not leak into the rows above and below the map.
            let out = try runArenaKernel(conv, input: x, outputShape: [n, c, ho, wo], residual: fused == .residualInPlace ? residual : nil,
                                         inPlace: true)
            expectClose(out, expected, "\(isa) N\(n) C\(c) \(h)×\(w) stride \(stride) \(fused)")
            withExtendedLifetime(bias) {}
        }
    }

    @Test func appliesOnlyTo3x3Stride1Or2DepthwiseWithChannelsOfAVector() {
        let a = Conv2dAttributes(padding: Pair(1), groups: 32)
        #expect(DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 3, 3], a))
        #expect(DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 3, 3], Conv2dAttributes(stride: Pair(2), padding: Pair(1), groups: 32)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 3, 3], Conv2dAttributes(stride: Pair(3), padding: Pair(1), groups: 32)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 3, 3], Conv2dAttributes(stride: Pair(2, 1), padding: Pair(1), groups: 32)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 3, 3], Conv2dAttributes(padding: Pair(0), groups: 32)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [64, 1, 3, 3], Conv2dAttributes(padding: Pair(1), groups: 32)))  // multiplier 2
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 16, 3, 3], Conv2dAttributes(padding: Pair(1), groups: 2)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 12, 8, 8], weight: [12, 1, 3, 3], Conv2dAttributes(padding: Pair(1), groups: 12)))
        #expect(!DepthwiseConv3x3.applies(input: [1, 32, 8, 8], weight: [32, 1, 5, 5], Conv2dAttributes(padding: Pair(2), groups: 32)))
    }

    /// PneumoNet (ReLU; batch-norm trained away from the identity) and MobileNetV2 (ReLU6; its stride-2 depthwise
    /// convolutions stay on oneDNN): plans with the kernel agree with all-direct plans and with the interpreter, at
    /// batch 1 and 3, intra-op and batch-split, and the planned bytes stay the peak.
    @Test(arguments: ["pneumonet", "mobilenetv2"], [(1, PlanParallelism.intraOp), (3, .batchSplit)])
    func planWithDepthwiseAgrees(model: String, run: (batch: Int, parallelism: PlanParallelism)) throws {
        let (m, shape, executor) = try kernelTestModel(model)
        // Every 3×3 depthwise convolution of stride 1 or 2 (PneumoNet: one per stage; MobileNetV2: all 17).
        let shapes = try m.graph.inferShapes(inputs: ["image": [1] + shape])
        let expected = m.graph.nodes.filter { node in
            guard case .conv2d(let a) = node.op else { return false }
            return DepthwiseConv3x3.applies(input: shapes[node.inputs[0].index], weight: shapes[node.inputs[1].index], a)
        }.count
        #expect(expected == (model == "pneumonet" ? 3 : 17))
        var rng = SeededRandom(seed: 9)
        let x = Tensor.randomNormal([run.batch] + shape, using: &rng)
        let (on, off) = try expectPlanAgrees(m, executor, x, parallelism: run.parallelism, convolutions: .depthwise)
        #expect(on.convolutionCounts.depthwise == expected && on.summary.contains("\(expected) depthwise"),
                "\(on.implementations.map(\.implementation))")
        #expect(off.convolutionCounts.depthwise == 0)
    }
}
