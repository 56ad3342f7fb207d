import Testing
@testable import CPUBackend
import CDNNL
import Models
import NN
import Optimize
@testable import GraphCore
@testable import Runtime
import TestSupport

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) against the plain Swift convolution (`ReferenceBackend.conv2d`, plus
/// bias, residual and ReLU written out) and oneDNN's direct one, and whole plans with them on against plans with
/// them off. Tolerance: 1e-4 relative to the output's largest magnitude, the runtime's fp32 bound (which folding
/// and fusion already use), for both variants. Measured by `pneumo bench conv --winograd --winograd-tile 2,4`
/// against oneDNN's direct convolution (random N(0,1) input, weights N(0, 0.05²)): F(2×2) 0.9e-6 (C=64) to
/// 2.7e-6 (C=512); F(4×4), whose transforms have entries up to 8 and 1/24, 5.5e-6 (C=64), 1.1e-5 (C=256) and
/// 1.9e-5 (C=512, 7×7): 5× inside the bound at the widest layer our models have.
@Suite struct WinogradTests {
    enum Fused: String, CaseIterable { case none, biasReLU, biasResidualReLU, residualInPlace }

    /// Odd and even sizes (tiles past the right and bottom edges), maps smaller than a tile (1×1 and 2×2 inside
    /// one 4×4 or 6×6 tile), chunks that do not divide the tile count, both schedules, and 600 tiles in one chunk
    /// (`.whole`, F(2×2)), which our products take in slices of 256.
    @Test(arguments: WinogradConv3x3.Variant.allCases,
          [(1, (5, 7)), (3, (5, 7)), (1, (8, 8)), (3, (1, 3)), (1, (14, 9)), (3, (7, 7)), (2, (5, 9)), (2, (1, 1)), (3, (2, 2)),
           (2, (40, 30))])
    func matchesReferenceConvolution(variant: WinogradConv3x3.Variant, shape: (batch: Int, size: (Int, Int))) throws {
        let ctx = try #require(DNNLContext.shared)
        let (batch, c, k, h, w) = (shape.batch, 16, 32, shape.size.0, shape.size.1)
        var rng = SeededRandom(seed: 11)
        let x = Tensor.randomNormal([batch, c, h, w], using: &rng)
        let weight = Tensor.randomNormal([k, c, 3, 3], std: 0.1, using: &rng)
        let bias = Tensor.randomNormal([k], std: 0.5, using: &rng)
        let residual = Tensor.randomNormal([batch, k, h, w], using: &rng)
        let conv = try ReferenceBackend().conv2d(x, weight: weight, bias: nil, Conv2dAttributes(padding: Pair(1))).scalars
        let xNHWC = x.converted(to: .channelsLast)
        let (biases, residuals) = (bias.scalars, residual.scalars)   // once: `scalars` copies the tensor
        for products in WinogradConv3x3.Products.allCases where products.isSupported {
        for schedule in [WinogradConv3x3.Schedule.chunked(tiles: nil), .chunked(tiles: 3), .whole] {
            for fused in Fused.allCases {
                // Reference: conv + bias + residual, ReLU (NCHW).
                let hasBias = fused != .none, hasResidual = fused == .biasResidualReLU || fused == .residualInPlace
                var expected = conv
                for i in expected.indices {
                    if hasBias { expected[i] += biases[(i / (h * w)) % k] }
                    if hasResidual { expected[i] += residuals[i] }
                    if fused != .none { expected[i] = max(expected[i], 0) }
                }
                let wino = try WinogradConv3x3(batch: batch, height: h, width: w, inChannels: c, outChannels: k,
                                               weight: weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self),
                                               bias: hasBias ? UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)) : nil,
                                               relu: fused != .none, variant: variant, schedule: schedule, products: products, ctx: ctx)
                let workspace = AlignedBuffer(byteCount: wino.workspaceBytes)
                let bound = try wino.bind(workspace: workspace.pointer)
                let res = residual.converted(to: .channelsLast)
                let out = fused == .residualInPlace ? res : Tensor(uninitialized: [batch, k, h, w], layout: .channelsLast)
                try wino.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                             residual: hasResidual ? UnsafePointer(res.rawPointer.assumingMemoryBound(to: Float.self)) : nil, workspace: bound)
                expectClose(out.converted(to: .rowMajor).scalars, expected, "\(variant) N\(batch) \(h)×\(w) \(schedule) \(fused) \(products)")
                withExtendedLifetime((bias, workspace)) {}
            }
        }
        }
    }

    /// F(4×4, 3×3) at a realistic depth (its error grows with the channels summed) against oneDNN's direct
    /// convolution with the same bias and ReLU: 128 → 64 channels, edge tiles on both sides.
    @Test func f4x4MatchesDirectConvolutionAtDepth() throws {
        let ctx = try #require(DNNLContext.shared)
        let (batch, c, k, h, w) = (2, 128, 64, 9, 6)
        var rng = SeededRandom(seed: 12)
        let x = Tensor.randomNormal([batch, c, h, w], using: &rng)
        let weight = Tensor.randomNormal([k, c, 3, 3], std: 0.05, using: &rng)
        let bias = Tensor.randomNormal([k], std: 0.5, using: &rng)
        let a = Conv2dAttributes(padding: Pair(1))
        let expected = try DNNLBackend().conv2d(x, weight: weight, bias: bias, a, fused: [.relu]).converted(to: .rowMajor).scalars
        for products in WinogradConv3x3.Products.allCases where products.isSupported {
            let wino = try WinogradConv3x3(batch: batch, height: h, width: w, inChannels: c, outChannels: k,
                                           weight: weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self),
                                           bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)), relu: true, variant: .f4x4,
                                           products: products, ctx: ctx)
            let workspace = AlignedBuffer(byteCount: wino.workspaceBytes)
            let bound = try wino.bind(workspace: workspace.pointer)
            let out = Tensor(uninitialized: [batch, k, h, w], layout: .channelsLast), xNHWC = x.converted(to: .channelsLast)
            try wino.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                         residual: nil, workspace: bound)
            expectClose(out.converted(to: .rowMajor).scalars, expected, "F(4×4) N\(batch) C\(c) K\(k) \(h)×\(w) \(products) vs oneDNN direct")
            withExtendedLifetime((bias, workspace, xNHWC)) {}
        }
    }

    /// `auto` races F(4×4, 3×3) only where its tiles need fewer products than F(2×2, 3×3)'s.
    @Test func autoRacesF4x4WhereItTakesFewerProducts() {
        func variants(_ h: Int, _ w: Int) -> Set<WinogradConv3x3.Variant> { Set(WinogradChoice.candidates(height: h, width: w).map(\.variant)) }
        #expect(variants(1, 1) == [.f2x2])    // 36 vs 16 products
        #expect(variants(2, 2) == [.f2x2])
        #expect(variants(4, 4) == [.f2x2, .f4x4])   // 36 vs 64
        #expect(variants(7, 7) == [.f2x2, .f4x4])   // 144 vs 256
        // Each variant chunked and whole, with each kind of products raced here.
        #expect(WinogradChoice.candidates(height: 56, width: 56).count == 4 * WinogradConv3x3.Products.raced.count)
        #expect(Set(WinogradChoice.candidates(height: 56, width: 56, products: [.avx2, .onednn]).map(\.products)) == [.avx2, .onednn])
    }

    /// Our products alone where our kernels run AVX2; where they could run AVX-512, oneDNN's matmul too, decided by the race.
    @Test func racesBothProductsOnlyWhereOursAreNotTheDefault() {
        let raced = WinogradConv3x3.Products.raced
        #expect(raced.contains(WinogradConv3x3.Products.preferred))
        #expect(raced.contains(.avx2) == WinogradConv3x3.Products.avx2.isSupported)   // ours are raced wherever they run
        #expect(raced.contains(.onednn) == (KernelISA.best != .avx2))                 // oneDNN's only where ours are not the default
        #expect(Set(raced).count == raced.count)
    }

    /// The slices of a batch-split plan share their weights but decide apart, so they may take other products for the
    /// same convolution, each with `U` in its own layout (the weight cache tells them apart by descriptor): each must
    /// find its own, and the plan compute what direct does.
    @Test func slicesWithOtherProductsKeepTheirOwnTransformedWeights() throws {
        guard CPUDevice.threadCount == 2, WinogradConv3x3.Products.allCases.allSatisfy(\.isSupported) else { return }
        // 40 px: layer2–4 maps 5×5, 3×3 and 2×2 (shapes no other test races); batch 3 splits into slices of 1 and 2.
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 40, 40], seed: 3)
        for (channels, size) in [(16, 5), (32, 3), (64, 2)] {
            for (images, products) in [(1, WinogradConv3x3.Products.avx2), (2, .onednn)] {
                let configuration = WinogradConv3x3.Configuration(.f2x2, .chunked(tiles: nil), products: products)
                WinogradChoice.remember(WinogradChoice.Decision(winograd: configuration, reason: "given by the test"), batch: images,
                                        channels: channels, outChannels: channels, height: size, width: size, threads: 1)
            }
        }
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([3, 1, 40, 40], using: &rng)
        let direct = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
        let split = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .batchSplit,
                                      convolutions: .auto)
        #expect(split.parts.map(\.rows) == [0..<1, 1..<3])
        let kernels = split.parts.map { $0.steps.map(\.implementation).filter { $0.hasPrefix("winograd") } }
        // Winograd where the narrow streaming family (layer4's 2×2 maps, at batch 1) did not take the convolution first.
        #expect(kernels[0].count >= 6 && kernels[0].allSatisfy { $0.contains("streaming_conv") }, "\(kernels[0])")
        #expect(kernels[1].count >= 6 && kernels[1].allSatisfy { $0.contains("matmul") }, "\(kernels[1])")
        expectClose(try split.run(x).scalars, try direct.run(x).scalars, "slices of 1 (our products) and 2 (oneDNN's) vs direct")
    }

    /// A shape keeps Winograd when it is 1.2× as fast as direct on average over its two races, each at least 1.1×.
    @Test func autoKeepsWinogradByTheMeanOfTwoRaces() {
        #expect(WinogradChoice.keeps(first: 1.25, second: 1.19))
        #expect(WinogradChoice.keeps(first: 1.21, second: 1.21))
        #expect(!WinogradChoice.keeps(first: 1.15, second: 1.2))    // mean 1.175
        #expect(!WinogradChoice.keeps(first: 1.4, second: 1.05))    // lost the second race
        #expect(!WinogradChoice.keeps(first: 1.05, second: 1.4))
    }

    @Test func appliesOnlyTo3x3Stride1Pad1WithChannelsOf16() {
        let a = Conv2dAttributes(padding: Pair(1))
        #expect(WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [32, 16, 3, 3], a))
        #expect(!WinogradConv3x3.applies(input: [1, 8, 8, 8], weight: [32, 8, 3, 3], a))     // C not a multiple of 16
        #expect(!WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [24, 16, 3, 3], a))   // K not a multiple of 16
        #expect(!WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [32, 16, 1, 1], a))
        #expect(!WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [32, 16, 3, 3], Conv2dAttributes(stride: Pair(2), padding: Pair(1))))
        #expect(!WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [32, 16, 3, 3], Conv2dAttributes(padding: Pair(0))))
        #expect(!WinogradConv3x3.applies(input: [1, 16, 8, 8], weight: [32, 8, 3, 3], Conv2dAttributes(padding: Pair(1), groups: 2)))
    }

    /// ResNet-18 at width 0.125 (channels 8, 16, 32, 64: layer1's 8 stay direct), batch-norm trained away
    /// from the identity: Winograd F(2×2) or F(4×4) on agrees with Winograd off and with the interpreter, at
    /// batch 1 and 3, intra-op and batch-split.
    @Test(arguments: [ConvolutionAlgorithm.winograd, .winograd4x4], [(1, PlanParallelism.intraOp), (3, .intraOp), (3, .batchSplit)])
    func resnetPlanWithWinogradAgrees(algorithm: ConvolutionAlgorithm, run: (batch: Int, parallelism: PlanParallelism)) throws {
        let (batch, parallelism) = run
        var m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [4, 1, 52, 52], seed: 3)
        let executor = Executor(graph: m.graph, backend: try DNNLBackend())
        var rng = SeededRandom(seed: 9)
        _ = try executor.forward(feeds: ["image": Tensor.randomNormal([4, 1, 52, 52], using: &rng)], parameters: &m.parameters,
                                 mode: .training, rng: &rng)
        let x = Tensor.randomNormal([batch, 1, 52, 52], using: &rng)   // layer1–4 maps: 13×13, 7×7 (odd), 4×4, 2×2
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
        let on = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: parallelism,
                                   convolutions: algorithm)
        // Three per stage in layer2–4 (C, K ≥ 16; each stage's first conv has stride 2), all of the variant asked for.
        let kernel = algorithm == .winograd ? "winograd_f2x3+" : "winograd_f4x3+"
        let winogradSteps = on.implementations.filter { $0.implementation.hasPrefix("winograd") }
        #expect(winogradSteps.count == 9 && winogradSteps.allSatisfy { $0.implementation.hasPrefix(kernel) },
                "\(on.implementations.map(\.implementation))")
        #expect(!off.implementations.contains { $0.implementation.hasPrefix("winograd") })
        let reference = try off.run(x).scalars
        expectClose(try on.run(x).scalars, reference, "resnet18 w0.125 \(algorithm) vs direct, batch \(batch), \(parallelism)")
        expectClose(try on.run(x).scalars, reference, "second run (arena and workspace reused)")
        var p = m.parameters
        let interpreted = try executor.forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
        expectClose(try on.run(x).scalars, interpreted.converted(to: .rowMajor).scalars, "\(algorithm) plan vs the interpreter")
    }

    /// The Winograd workspace lives in the plan's scratchpad and its weights among the plan's weights:
    /// the allocator's high-water mark while running equals the planned bytes plus the output.
    @Test(arguments: [ConvolutionAlgorithm.winograd, .winograd4x4])
    func plannedMemoryStaysTruthful(algorithm: ConvolutionAlgorithm) throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        var rng = SeededRandom(seed: 1)
        let x = Tensor.randomNormal([2, 1, 32, 32], using: &rng)
        let (plan, _) = try runTracked(x) { try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: algorithm) }
        #expect(plan.implementations.contains { $0.implementation.hasPrefix("winograd") })
    }

    /// `.auto` times each shape and may keep either; whatever it keeps computes the same.
    @Test func autoAgreesWithDirect() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        var rng = SeededRandom(seed: 2)
        let x = Tensor.randomNormal([2, 1, 32, 32], using: &rng)
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        let auto = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .auto)
        expectClose(try auto.run(x).scalars, try off.run(x).scalars, "auto vs direct")
    }

    /// At batch 1 a plan that took Winograd steps was also raced, whole, against the same plan without them: it
    /// keeps them only after winning; when every kernel family of ours lost, `convolutions` says direct.
    @Test func batchOneAutoPlanKeepsWinogradOnlyAfterAWholeRace() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 64, 64], seed: 3)
        var rng = SeededRandom(seed: 2)
        let x = Tensor.randomNormal([1, 1, 64, 64], using: &rng)
        let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        let auto = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .auto, convolutions: .auto)
        let counts = auto.convolutionCounts
        #expect(counts.winograd == 0 || auto.parallelismReason.contains("winograd convolutions: with"), "\(auto.parallelismReason)")
        if auto.convolutions == .direct {
            #expect(counts.winograd + counts.streaming + counts.depthwise == 0)
            #expect(auto.parallelismReason.contains("convolutions: with"), "\(auto.parallelismReason)")
        } else {
            #expect(auto.convolutions == .auto)
        }
        expectClose(try auto.run(x).scalars, try off.run(x).scalars, "batch-1 auto vs direct")
    }

    /// The runtime's default is `.auto`; `.direct` (the off switch), `.winograd` and `.winograd4x4` reach every plan it compiles.
    @Test func runtimePassesItsAlgorithmToEveryPlan() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        func winogradSteps(_ a: ConvolutionAlgorithm?, batch: Int) throws -> Int {
            let r = a.map { Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 32, 32], parallelism: .intraOp, convolutions: $0) }
                ?? Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 32, 32])
            let plan = try r.plan(batch: batch)
            #expect(plan.convolutions == r.convolutions)
            return plan.implementations.filter { $0.implementation.hasPrefix("winograd") }.count
        }
        #expect(Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 32, 32]).convolutions == .auto)
        for batch in [1, 2] {
            #expect(try winogradSteps(.direct, batch: batch) == 0)
            #expect(try winogradSteps(.winograd, batch: batch) == 9)
            #expect(try winogradSteps(.winograd4x4, batch: batch) == 9)
        }
        // INT8 and BF16 plans stay direct whatever is asked.
        guard Precision.isSupported(.int8) else { return }
        let int8 = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [2, 1, 32, 32], precision: .int8,
                                     calibration: try Int8Calibration.random(graph: m.graph, parameters: m.parameters, inputName: "image",
                                                                             sampleShape: [1, 32, 32]),
                                     convolutions: .winograd)
        #expect(!int8.implementations.contains { $0.implementation.hasPrefix("winograd") })
    }

    @Test func channelsNotMultipleOf16AreAnError() throws {
        let ctx = try #require(DNNLContext.shared)
        let w = [Float](repeating: 0, count: 16 * 8 * 9)
        #expect(throws: EngineError.unsupported("winograd", "channels must be multiples of 16 and sizes positive; got N1 C8 K16 4×4")) {
            _ = try w.withUnsafeBufferPointer {
                try WinogradConv3x3(batch: 1, height: 4, width: 4, inChannels: 8, outChannels: 16, weight: $0.baseAddress!, bias: nil,
                                    relu: false, ctx: ctx)
            }
        }
    }

    @Test func unknownAlgorithmIsAnError() {
        #expect(throws: EngineError.invalid("runtime", "convolutions must be one of direct, winograd, winograd4x4, streaming, depthwise, separable, resize-conv, auto; got 'fast'")) {
            try ConvolutionAlgorithm(option: "fast")
        }
    }

    /// `auto`'s races, one shape after another in one process, as a plan's compilation runs them: each must compute
    /// direct's output, so that its direct convolution had weights laid out for its own shape. The races once reordered
    /// the weights with one primitive cached under a fixed key, made for the first shape raced: a later, smaller shape's
    /// reorder then read and wrote past its buffers and corrupted the heap (the heap corruption `bench/README.md`
    /// records against the reverted batch-1 code), and a later, larger one's left most of its weights unwritten. The
    /// shapes grow here, so that such a bug shows as wrong outputs instead of a damaged test process.
    @Test func racesOfSeveralShapesEachComputeDirectsOutput() throws {
        for (c, k, size) in [(16, 16, 8), (64, 32, 6), (128, 128, 4)] {
            let t = try WinogradConvBenchmark.race(batch: 1, channels: c, outChannels: k, height: size, width: size,
                                                   configurations: [.init(.f2x2, .whole), .init(.f2x2, .chunked(tiles: nil))])
            #expect(t.errors.allSatisfy(WinogradChoice.agrees), "C\(c) K\(k) \(size)×\(size): errors \(t.errors)")
        }
    }
}
