import Testing
@testable import CPUBackend
import Models
import NN
import Optimize
@testable import GraphCore
@testable import Runtime
import TestSupport

/// Our fused depthwise-separable kernel (`SeparableConv`, each build this CPU runs) against the plain Swift
/// convolutions (`ReferenceBackend.conv2d`: the depthwise one, its bias and activation, then the 1×1 one, with bias,
/// residual and activation written out), and whole plans with it against plans without it and the interpreter.
/// Tolerance: 1e-4 relative to the output's largest magnitude, the runtime's fp32 bound (sums of up to 128 products
/// here: differences are ~1e-6).
@Suite(.enabled(if: KernelISA.best != nil, "the separable kernel needs AVX-512F or AVX2 + FMA"))
struct SeparableConvTests {
    enum Fused: String, CaseIterable { case none, reluReLU, relu6None, residualReLU, residualInPlace }

    /// PneumoNet's blocks (14×14×32, 7×7×64, 4×4×128 → same), MobileNetV2-like projections to fewer and to an odd
    /// number of vectors of channels (one- and two-vector blocks, pixel tails of every size), 1×1 and one-row maps,
    /// several images (rows of two images in one pass). On two threads, maps of fewer than eight rows split the output
    /// channels instead of the rows (4×4×128, 1×13×80, 3×3 of 4 images does not: 12 rows). Depthwise stride 1 and 2.
    @Test(arguments: KernelISA.allCases.filter(\.isSupported).flatMap { isa in [1, 2].map { (isa, $0) } },
          [(1, 32, 32, 14, 14), (1, 64, 64, 7, 7), (1, 128, 128, 4, 4), (2, 32, 16, 7, 7), (3, 16, 48, 5, 9), (2, 16, 16, 1, 1),
           (1, 48, 80, 1, 13), (4, 32, 32, 3, 3), (1, 16, 32, 6, 21)])
    func matchesReferenceConvolutions(build: (isa: KernelISA, stride: Int),
                                      shape: (batch: Int, channels: Int, outChannels: Int, height: Int, width: Int)) throws {
        let (n, c, k, h, w) = shape
        let (isa, stride) = build
        let (ho, wo) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        var rng = SeededRandom(seed: 41)
        let x = Tensor.randomNormal([n, c, h, w], using: &rng)
        let dwWeight = Tensor.randomNormal([c, 1, 3, 3], std: 0.3, using: &rng), dwBias = Tensor.randomNormal([c], std: 0.5, using: &rng)
        let pwWeight = Tensor.randomNormal([k, c, 1, 1], std: 0.2, using: &rng), pwBias = Tensor.randomNormal([k], std: 0.5, using: &rng)
        let residual = Tensor.randomNormal([n, k, ho, wo], using: &rng)
        let (dw, pw) = (Conv2dAttributes(stride: Pair(stride), padding: Pair(1), groups: c), Conv2dAttributes())
        #expect(SeparableConv.applies(input: x.shape, depthwise: dw, dwWeight: dwWeight.shape, pointwise: pw, pwWeight: pwWeight.shape))
        let reference = ReferenceBackend()
        func pointer(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.rawPointer.assumingMemoryBound(to: Float.self)) }
        for fused in Fused.allCases {
            let (act1, act2): (Op?, Op?) = switch fused {
            case .none: (nil, nil)
            case .reluReLU, .residualReLU: (.relu, .relu)
            case .relu6None, .residualInPlace: (.relu6, nil)
            }
            func activate(_ v: Float, _ op: Op?) -> Float { op == .relu ? max(v, 0) : op == .relu6 ? min(max(v, 0), 6) : v }
            let withBias = fused != .none, withResidual = fused == .residualReLU || fused == .residualInPlace
            var middle = try reference.conv2d(x, weight: dwWeight, bias: withBias ? dwBias : nil, dw)
            middle = try Tensor(shape: middle.shape, scalars: middle.scalars.map { activate($0, act1) })
            var expected = try reference.conv2d(middle, weight: pwWeight, bias: withBias ? pwBias : nil, pw).scalars
            let residuals = residual.scalars   // once: `scalars` copies the tensor
            for i in expected.indices { expected[i] = activate(expected[i] + (withResidual ? residuals[i] : 0), act2) }

            let conv = try SeparableConv(batch: n, height: h, width: w, channels: c, outChannels: k, stride: stride,
                                         depthwiseWeight: pointer(dwWeight), depthwiseBias: withBias ? pointer(dwBias) : nil, depthwiseActivation: act1,
                                         pointwiseWeight: pointer(pwWeight), bias: withBias ? pointer(pwBias) : nil, activation: act2, isa: isa)
            #expect(conv.implementation == "separable_conv3x3+1x1:\(isa.rawValue)")
            // Stale data in the shared scratchpad must not leak into the zero rows or the depthwise rows.
            let out = try runArenaKernel(conv, input: x, outputShape: [n, k, ho, wo], residual: withResidual ? residual : nil,
                                         inPlace: fused == .residualInPlace)
            expectClose(out, expected, "\(isa) N\(n) C\(c)→\(k) \(h)×\(w) stride \(stride) \(fused)")
            withExtendedLifetime((dwBias, pwBias)) {}
        }
    }

    @Test func appliesOnlyToADepthwise3x3ThenA1x1OverTheSameChannels() {
        let dw = Conv2dAttributes(padding: Pair(1), groups: 32), pw = Conv2dAttributes()
        let x = [1, 32, 8, 8], dwW = [32, 1, 3, 3]
        #expect(SeparableConv.applies(input: x, depthwise: dw, dwWeight: dwW, pointwise: pw, pwWeight: [64, 32, 1, 1]))
        #expect(SeparableConv.applies(input: x, depthwise: Conv2dAttributes(stride: Pair(2), padding: Pair(1), groups: 32), dwWeight: dwW,
                                      pointwise: pw, pwWeight: [64, 32, 1, 1]))
        #expect(!SeparableConv.applies(input: x, depthwise: Conv2dAttributes(stride: Pair(3), padding: Pair(1), groups: 32), dwWeight: dwW,
                                       pointwise: pw, pwWeight: [64, 32, 1, 1]))
        #expect(!SeparableConv.applies(input: x, depthwise: dw, dwWeight: dwW, pointwise: pw, pwWeight: [64, 32, 3, 3]))
        #expect(!SeparableConv.applies(input: x, depthwise: dw, dwWeight: dwW, pointwise: Conv2dAttributes(stride: Pair(2)), pwWeight: [64, 32, 1, 1]))
        #expect(!SeparableConv.applies(input: x, depthwise: dw, dwWeight: dwW, pointwise: Conv2dAttributes(groups: 2), pwWeight: [64, 16, 1, 1]))
        #expect(!SeparableConv.applies(input: x, depthwise: dw, dwWeight: dwW, pointwise: pw, pwWeight: [12, 32, 1, 1]))
    }

    /// A team other than the one compiled for (the slots own the scratches, not the threads): larger and smaller, on a
    /// map split by rows (14×14) and one split by output channels (4×4). The team size is the calling thread's OpenMP
    /// setting, so this does not reach tests on other threads.
    @Test(arguments: [(1, 2), (2, 1)], [(32, 14), (128, 4)])
    func teamOtherThanAtCompileTimeStaysCorrect(teams: (compiled: Int, run: Int), shape: (channels: Int, size: Int)) throws {
        let (n, c, h) = (1, shape.channels, shape.size)
        var rng = SeededRandom(seed: 43)
        let x = Tensor.randomNormal([n, c, h, h], using: &rng)
        let dwWeight = Tensor.randomNormal([c, 1, 3, 3], std: 0.3, using: &rng), pwWeight = Tensor.randomNormal([c, c, 1, 1], std: 0.2, using: &rng)
        func pointer(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.rawPointer.assumingMemoryBound(to: Float.self)) }
        let team = DNNLContext.threadCount
        defer { DNNLContext.threadCount = team }
        DNNLContext.threadCount = teams.compiled
        let conv = try SeparableConv(batch: n, height: h, width: h, channels: c, outChannels: c, depthwiseWeight: pointer(dwWeight),
                                     depthwiseBias: nil, depthwiseActivation: .relu, pointwiseWeight: pointer(pwWeight), bias: nil, activation: nil)
        DNNLContext.threadCount = teams.run
        let out = try runArenaKernel(conv, input: x, outputShape: [n, c, h, h])
        let reference = ReferenceBackend()
        let middle = try reference.conv2d(x, weight: dwWeight, bias: nil, Conv2dAttributes(padding: Pair(1), groups: c))
        let expected = try reference.conv2d(try Tensor(shape: middle.shape, scalars: middle.scalars.map { max($0, 0) }), weight: pwWeight, bias: nil,
                                            Conv2dAttributes())
        expectClose(out, expected.scalars, "C\(c) \(h)×\(h): team of \(teams.run), compiled for \(teams.compiled)")
    }

    /// PneumoNet (ReLU, residual = the block's input, so never accumulated in place) and MobileNetV2 (ReLU6, residual
    /// = the block's input, projections of too few channels left to two steps): plans with the kernel agree with
    /// all-direct plans and with the interpreter, at batch 1 and 3, intra-op and batch-split, and the planned bytes stay
    /// the peak.
    @Test(arguments: ["pneumonet", "mobilenetv2"], [(1, PlanParallelism.intraOp), (3, .batchSplit)])
    func planWithSeparableAgrees(model: String, run: (batch: Int, parallelism: PlanParallelism)) throws {
        let (m, shape, executor) = try kernelTestModel(model)
        // Every 3×3 stride-1 depthwise convolution (batch-norm folded) whose 1×1 reader, through its activation, the
        // kernel takes: PneumoNet 3, MobileNetV2 (width 0.5) 16 of 17 on AVX-512 and 17 on AVX2 (one projection has 8·k channels).
        let folded = try InferenceRewrites.prepareForInference(m.graph, m.parameters).0
        let shapes = try folded.inferShapes(inputs: ["image": [1] + shape])
        let readers = folded.consumerCounts()
        let expected = folded.nodes.indices.filter { i in
            guard case .conv2d(let a) = folded.nodes[i].op else { return false }
            var j = i
            if readers[j] == 1, let act = folded.nodes.firstIndex(where: { $0.inputs.map(\.index) == [j] }),
               [Op.relu, .relu6].contains(folded.nodes[act].op) { j = act }
            guard readers[j] == 1, let p = folded.nodes.firstIndex(where: { $0.inputs.first?.index == j }),
                  case .conv2d(let b) = folded.nodes[p].op else { return false }
            return SeparableConv.applies(input: shapes[folded.nodes[i].inputs[0].index], depthwise: a,
                                         dwWeight: shapes[folded.nodes[i].inputs[1].index], pointwise: b,
                                         pwWeight: shapes[folded.nodes[p].inputs[1].index])
        }.count
        #expect(expected == (model == "pneumonet" ? 3 : KernelISA.best == .avx512 ? 16 : 17))
        var rng = SeededRandom(seed: 9)
        let x = Tensor.randomNormal([run.batch] + shape, using: &rng)
        let (on, off) = try expectPlanAgrees(m, executor, x, parallelism: run.parallelism, convolutions: .separable)
        #expect(on.convolutionCounts.separable == expected && on.summary.contains("\(expected) separable"),
                "\(on.implementations.map(\.implementation))")
        #expect(on.convolutionCounts.all == off.convolutionCounts.all - expected)
        #expect(off.convolutionCounts.separable == 0)
    }

    /// `pw(relu(dw(x))) + side(x)`, where `side(x)` comes after the depthwise convolution in graph order: a separable
    /// step would run in the depthwise convolution's place, before `side(x)` exists, so the pair stays two convolutions
    /// and the 1×1 one keeps its fused add (fusing them anyway crashes the plan).
    struct LateResidual: Layer {
        func callAsFunction(_ x: Value) throws -> Value {
            let d = try scoped("dw", x) {
                try Conv2d(Conv2dConfig(32, 32, kernel: 3, padding: 1, groups: 32, initializer: .kaimingNormalFanOut))($0)
            }.relu()
            let side = try scoped("side", x) { try Conv2d(Conv2dConfig(32, 32, kernel: 1, initializer: .kaimingNormalFanOut))($0) }
            let y = try scoped("pw", d) { try Conv2d(Conv2dConfig(32, 32, kernel: 1, initializer: .kaimingNormalFanOut))($0) }
            return try y + side
        }
    }

    @Test func residualComputedAfterTheDepthwiseConvolutionKeepsThePairApart() throws {
        var m = try ModelGraph(LateResidual(), inputShape: [1, 32, 6, 6], seed: 4)
        var rng = SeededRandom(seed: 5)
        let x = Tensor.randomNormal([1, 32, 6, 6], using: &rng)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .separable)
        #expect(plan.convolutionCounts.separable == 0 && plan.convolutionCounts.all == 3 && !plan.implementations.contains { $0.kind == .add },
                "\(plan.implementations.map { "\($0.name): \($0.implementation)" })")
        let executor = Executor(graph: m.graph, backend: ReferenceBackend())
        let expected = try executor.forward(feeds: ["image": x], parameters: &m.parameters, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
        expectClose(try plan.run(x).scalars, expected.converted(to: .rowMajor).scalars, "late residual")
    }

    /// Where the family is not taken (forced depthwise) or nothing is fused, a separable pair lowers to two steps.
    @Test func otherAlgorithmsKeepTwoSteps() throws {
        let m = try ModelGraph(try PneumoNet(inChannels: 1, widths: [16, 32, 64, 128]), inputShape: [1, 1, 28, 28], seed: 3)
        let depthwise = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], convolutions: .depthwise)
        #expect(depthwise.convolutionCounts.separable == 0 && depthwise.convolutionCounts.depthwise == 3 && depthwise.convolutionCounts.all == 10)
        let unfused = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], fuse: false, convolutions: .separable)
        #expect(unfused.convolutionCounts.separable == 0)
    }
}
