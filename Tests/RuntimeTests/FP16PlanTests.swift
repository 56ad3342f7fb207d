import Testing
@testable import CPUBackend
import CKernels
import Models
import NN
@testable import GraphCore
import Optimize
@testable import Runtime
import TestSupport

/// FP16 plans: the folded weights rounded to IEEE half, stored as half where the weight-streaming kernel reads them, float32
/// activations and arithmetic. The kernel with half weights is checked against the reference convolution on the same
/// weights rounded to half (so only the summation order differs: the runtime's fp32 bound, 1e-4 relative to the output's
/// largest magnitude), and whole FP16 plans against the interpreter on the rounded weights.
@Suite(.enabled(if: Precision.isSupported(.fp16), "fp16 needs AVX2 with F16C, or AVX-512F"))
struct FP16PlanTests {
    typealias Shape = StreamingConvTests.Shape

    /// Each build's kernels with half weights: AVX-512's three weight-group widths, AVX2's passes of 4 and 6 pixels and its
    /// larger maps, 1×1 maps (the centre tap alone) and stride 2.
    @Test(arguments: KernelISA.allCases.filter(\.isSupported), [
        Shape(batch: 1, channels: 32, outChannels: 48, height: 4, width: 4, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 24, outChannels: 64, height: 2, width: 2, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 2, channels: 16, outChannels: 32, height: 2, width: 2, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 3, channels: 17, outChannels: 32, height: 1, width: 1, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 32, outChannels: 64, height: 8, width: 8, kernel: 1, stride: 2, padding: 0),
        Shape(batch: 1, channels: 16, outChannels: 32, height: 2, width: 5, kernel: 3, stride: 1, padding: 1),
        Shape(batch: 1, channels: 16, outChannels: 32, height: 16, width: 16, kernel: 3, stride: 1, padding: 1),
    ])
    func halfWeightsMatchTheReferenceOnRoundedWeights(isa: KernelISA, shape s: Shape) throws {
        let (a, x, weight, bias, residual, unrounded) = try StreamingConvTests.problem(s, seed: 31)
        let pixels = unrounded.shape[0] * unrounded.shape[2] * unrounded.shape[3]
        guard pneumo_streaming_conv_group(isa.code, Int64(pixels), Int64(s.outChannels)) > 0 else { return }   // AVX-512 takes ≤ 16
        let rounded = try Tensor(shape: weight.shape, scalars: weight.scalars.map(InferenceRewrites.roundedToFloat16))
        let reference = try ReferenceBackend().conv2d(x, weight: rounded, bias: nil, a)
        let expected = StreamingConvTests.fused(reference, bias: bias, residual: residual, relu: true)
        let conv = try StreamingConv(batch: s.batch, height: s.height, width: s.width, inChannels: s.channels, outChannels: s.outChannels,
                                     kernel: Pair(s.kernel), stride: a.stride, padding: a.padding,
                                     weight: weight.rawPointer.assumingMemoryBound(to: Float.self),
                                     bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)), relu: true, isa: isa,
                                     halfWeights: true)
        #expect(conv.implementation.hasPrefix("streaming_conv:\(isa.rawValue)_") && conv.implementation.hasSuffix("_f16"), "\(conv.implementation)")
        // Two bytes a weight: the used taps' weights, each rounded to the nearest half (the kernel's one rounding), reordered.
        let halves = conv.weights.pointer.assumingMemoryBound(to: UInt16.self)
        let count = s.outChannels * conv.usedTaps.count * s.channels
        #expect(conv.weights.byteCount == 2 * count)
        let taps = s.kernel * s.kernel
        let values = rounded.scalars
        let used = values.indices.filter { conv.usedTaps.contains($0 % taps) }.map { values[$0] }
        #expect((0..<count).map { Float(Float16(bitPattern: halves[$0])) }.sorted() == used.sorted())
        let workspace = AlignedBuffer(byteCount: conv.workspaceBytes)
        let res = residual.converted(to: .channelsLast), xNHWC = x.converted(to: .channelsLast)
        try conv.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: res.rawPointer.assumingMemoryBound(to: Float.self),
                     residual: UnsafePointer(res.rawPointer.assumingMemoryBound(to: Float.self)),
                     workspace: try conv.bind(workspace: workspace.pointer))
        expectClose(res.converted(to: .rowMajor).scalars, expected, "\(isa) \(s.testDescription) half weights")
        withExtendedLifetime((weight, bias, workspace, xNHWC)) {}
    }

    /// ResNet-18 at width 0.25 and 32 px, batch 1, batch-norm off the identity: the FP16 plan (streaming convolutions, half
    /// weights) equals the interpreter on the folded weights rounded to half, stays within FP16's rounding of the float32
    /// plan, says it is fp16, and keeps the streamed weights in half the bytes.
    @Test func resnetPlanEqualsTheInterpreterOnHalfWeights() throws {
        var m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [4, 1, 32, 32], seed: 3)
        let executor = Executor(graph: m.graph, backend: try DNNLBackend())
        var rng = SeededRandom(seed: 9)
        _ = try executor.forward(feeds: ["image": Tensor.randomNormal([4, 1, 32, 32], using: &rng)], parameters: &m.parameters,
                                 mode: .training, rng: &rng)
        let x = Tensor.randomNormal([1, 1, 32, 32], using: &rng)
        let (fp16, output) = try runTracked(x) {
            try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, precision: .fp16, convolutions: .streaming)
        }
        let fp32 = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .streaming)
        #expect(fp16.precision == .fp16 && fp16.summary.hasSuffix(", fp16"), "\(fp16.summary)")
        let streamed = fp16.implementations.filter { $0.implementation.hasPrefix(StreamingConv.kernelName) }
        #expect(!streamed.isEmpty && streamed.allSatisfy { $0.implementation.hasSuffix("_f16") }, "\(streamed.map(\.implementation))")
        #expect(fp16.convolutionCounts.streaming == fp32.convolutionCounts.streaming)
        #expect(fp16.weightBytes < fp32.weightBytes)

        let folded = try InferenceRewrites.prepareForInference(m.graph, m.parameters)
        var half = try InferenceRewrites.roundWeights(folded.graph, folded.parameters, to: .float16).parameters
        let interpreter = Executor(graph: folded.graph, backend: ReferenceBackend())
        let expected = try interpreter.forward(feeds: ["image": x], parameters: &half, mode: .inference, rng: &rng)[folded.graph.outputs[0]]!
        expectClose(output.scalars, expected.converted(to: .rowMajor).scalars, "fp16 plan vs the interpreter on half weights")
        // The rounding moves the logits, but by FP16's share only (2⁻¹¹ relative per weight).
        let exact = try fp32.run(x).scalars
        let scale = exact.map(abs).max()!
        let change = zip(output.scalars, exact).map { abs($0 - $1) }.max()!
        #expect(change > 0 && change < 0.01 * scale, "fp16 vs fp32: \(change) of \(scale)")
    }

}
