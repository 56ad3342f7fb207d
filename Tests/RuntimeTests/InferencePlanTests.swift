import Testing
@testable import CPUBackend
import Models
import NN
import Optimize
@testable import Runtime
import TestSupport

/// The compiled plan (folded batch-norm, fused post-ops, planned memory) computes what the executor
/// computes. Tolerance: 1e-4 relative to the output's magnitude (the fp32 bound; folding and
/// fusion reorder float32 sums).
@Suite struct InferencePlanTests {
    /// A model after some training-mode steps, so batch-norm statistics are not the identity.
    func trainedModel(_ layer: some Layer, inputShape: [Int]) throws -> ModelGraph {
        var m = try ModelGraph(layer, inputShape: inputShape, seed: 3)
        let executor = Executor(graph: m.graph, backend: try DNNLBackend())
        var rng = SeededRandom(seed: 9)
        for _ in 0..<2 {
            _ = try executor.forward(feeds: ["image": Tensor.randomNormal(inputShape, using: &rng)], parameters: &m.parameters,
                                     mode: .training, rng: &rng)
        }
        return m
    }

    func reference(_ m: ModelGraph, _ x: Tensor) throws -> [Float] {
        var p = m.parameters, rng = SeededRandom(seed: 0)
        let pass = try Executor(graph: m.graph, backend: ReferenceBackend()).forward(feeds: ["image": x], parameters: &p,
                                                                                    mode: .inference, rng: &rng)
        return pass[m.graph.outputs[0]]!.scalars
    }

    @Test(arguments: PlanLayout.allCases, [1, 3])
    func resnetPlanMatchesExecutor(layout: PlanLayout, batch: Int) throws {
        let m = try trainedModel(ResNet18(inChannels: 1, width: 0.125), inputShape: [4, 1, 32, 32])
        var rng = SeededRandom(seed: 1)
        let x = Tensor.randomNormal([batch, 1, 32, 32], using: &rng)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, layout: layout)
        expectClose(try plan.run(x).scalars, try reference(m, x), "resnet18 w0.125 \(layout) batch \(batch)")
        // Twice: the arena is reused between calls.
        expectClose(try plan.run(x).scalars, try reference(m, x), "second run")
    }

    @Test func baselineWithUpsamplingMatches() throws {
        let m = try trainedModel(ResNet18(width: 0.0625, upsampleTo: 40), inputShape: [2, 3, 20, 20])
        var rng = SeededRandom(seed: 2)
        let x = Tensor.randomNormal([2, 3, 20, 20], using: &rng)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        expectClose(try plan.run(x).scalars, try reference(m, x), "baseline (resize inside)")
    }

    @Test func fusionRemovesStepsAndUnfusedPlanAgrees() throws {
        let m = try trainedModel(ResNet18(inChannels: 1, width: 0.125), inputShape: [2, 1, 28, 28])
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([2, 1, 28, 28], using: &rng)
        let fused = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        let unfused = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, fuse: false)
        // 20 convolutions, each absorbing its ReLU and/or residual add: no activation or add steps remain
        // except none; the unfused plan has them.
        #expect(fused.implementations.filter { $0.kind == .convolution }.count == 20)
        #expect(!fused.implementations.contains { $0.kind == .add || $0.kind == .activation || $0.kind == .batchNorm })
        #expect(unfused.implementations.contains { $0.kind == .add })
        expectClose(try fused.run(x).scalars, try unfused.run(x).scalars, "fused vs unfused")
    }

    @Test func wrongInputShapeIsAnError() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28])
        #expect(throws: EngineError.self) { try plan.run(Tensor(zeros: [2, 1, 28, 28])) }
    }

    @Test func memoryPlanReusesBlocks() {
        var planner = MemoryPlanner()
        let a = planner.allocate(100), b = planner.allocate(200)
        #expect(a == 0 && b == 128)
        planner.release(a, 100)
        #expect(planner.allocate(64) == 0)        // first fit into the freed block
        planner.release(b, 200)
        #expect(planner.allocate(300) == 64)      // merged free space at the end grows in place
        #expect(planner.size == 64 + 320)
    }

    /// First fit in step order strands a buffer above a short-lived one: A (64 B, steps 0–1) and B (64 B, 0–3) first,
    /// then C (128 B, 2–3) cannot use A's freed block and goes on top (256 B). Largest first packs it at the bound, the
    /// most bytes alive at once (B + C = 192).
    @Test func memoryLayoutPlacesLargestFirst() {
        typealias L = MemoryPlanner.Lifetime
        let buffers: [L?] = [L(bytes: 64, steps: 0...1), L(bytes: 64, steps: 0...3), nil, L(bytes: 128, steps: 2...3)]
        #expect(MemoryPlanner.inStepOrder(buffers).size == 256)
        #expect(MemoryPlanner.lowerBound(buffers) == 192)
        let (offsets, size) = MemoryPlanner.layout(buffers)
        #expect(size == 192 && offsets[2] == -1)
    }

    /// Random lifetimes: buffers alive at the same step never overlap, and the layout is never larger than first fit
    /// nor smaller than the bound.
    @Test func memoryLayoutKeepsLiveBuffersApart() {
        var rng = SeededRandom(seed: 17)
        for _ in 0..<50 {
            let buffers: [MemoryPlanner.Lifetime?] = (0..<40).map { _ in
                let first = Int(rng.next() % 30), length = Int(rng.next() % 6)
                return rng.next() % 10 == 0 ? nil : MemoryPlanner.Lifetime(bytes: 1 + Int(rng.next() % 5000), steps: first...(first + length))
            }
            let (offsets, size) = MemoryPlanner.layout(buffers)
            #expect(size <= MemoryPlanner.inStepOrder(buffers).size && size >= MemoryPlanner.lowerBound(buffers))
            for i in buffers.indices {
                guard let a = buffers[i] else { #expect(offsets[i] == -1); continue }
                #expect(offsets[i] >= 0 && offsets[i] % 64 == 0 && offsets[i] + a.bytes <= size)
                for j in buffers.indices where j > i {
                    guard let b = buffers[j], a.steps.overlaps(b.steps) else { continue }
                    #expect(offsets[i] + a.bytes <= offsets[j] || offsets[j] + b.bytes <= offsets[i], "buffers \(i) and \(j) overlap")
                }
            }
        }
    }
}

/// BF16 plans agree with float32 to bfloat16's precision. bfloat16 keeps 8 mantissa bits (relative
/// rounding 2⁻⁹ ≈ 0.2% per value); through ~20 layers with float32 accumulation the logits move by a few
/// percent of their scale at most: tolerance 5e-2 of the output's magnitude.
@Suite struct BF16PlanTests {
    @Test(.enabled(if: Precision.isSupported(.bf16), "this CPU has no AVX-512 BF16"))
    func bf16PlanTracksFloat32() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28], seed: 5)
        var rng = SeededRandom(seed: 6)
        let x = Tensor.randomNormal([4, 1, 28, 28], using: &rng)
        let f32 = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape).run(x).scalars
        let bf16 = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, precision: .bf16).run(x).scalars
        let scale = f32.map(abs).max()!
        let worst = zip(f32, bf16).map { abs($0 - $1) }.max()!
        #expect(worst <= 5e-2 * scale, "max difference \(worst), scale \(scale)")
        #expect(worst > 0, "a bf16 plan that equals float32 exactly did not run in bf16")
    }

    /// Where the CPU lacks a precision (try another ISA with `ONEDNN_MAX_CPU_ISA=AVX2 swift test`), asking for
    /// it is an error naming what is missing; a quantized model's own precision falls back to float32. INT8 runs
    /// on every x86 CPU (7-bit weights where VNNI is missing); BF16 needs AVX-512 BF16 or AMX.
    @Test func unsupportedPrecisionIsAClearError() throws {
        #expect(Precision.isSupported(.fp32) && Precision.unsupportedReason(.fp32) == nil)
        #expect(Precision.isSupported(.int8), "\(Precision.unsupportedReason(.int8) ?? "")")
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        for p in [Precision.bf16, .int8] where !Precision.isSupported(p) {
            #expect(throws: EngineError.unsupported("runtime", Precision.unsupportedReason(p)!)) {
                try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], precision: p,
                                  calibration: try Int8Calibration.random(graph: m.graph, parameters: m.parameters, inputName: "image",
                                                                          sampleShape: [1, 28, 28]))
            }
        }
    }
}

/// Batch-norm folding when convolutions share one weight (parameter sharing): each conv's folded copy
/// must keep its own name, or one would overwrite the other.
@Suite struct SharedWeightFoldingTests {
    struct TiedPair: Layer {
        func callAsFunction(_ x: Value) throws -> Value {
            let b = x.graphBuilder
            let w = try b.parameter("shared.weight", shape: [4, 4, 3, 3], initializer: .pytorchDefaultWeight)
            var y = try x.conv2d(weight: w, bias: nil, Conv2dAttributes(padding: Pair(1)))
            y = try scoped("bn1", y) { try BatchNorm2d(4)($0) }.relu()
            y = try y.conv2d(weight: w, bias: nil, Conv2dAttributes(padding: Pair(1)))
            y = try scoped("bn2", y) { try BatchNorm2d(4)($0) }
            return try scoped("fc", try y.globalAvgPool().flatten()) { try Linear(4, 2)($0) }
        }
    }

    @Test func sharedWeightsFoldPerConvolution() throws {
        var m = try ModelGraph(TiedPair(), inputShape: [2, 4, 6, 6], seed: 1)
        var rng = SeededRandom(seed: 2)
        // Distinct batch-norm statistics for the two convolutions.
        _ = try Executor(graph: m.graph, backend: ReferenceBackend())
            .forward(feeds: ["image": Tensor.randomNormal([2, 4, 6, 6], std: 3, using: &rng)], parameters: &m.parameters, mode: .training, rng: &rng)
        let x = Tensor.randomNormal([2, 4, 6, 6], using: &rng)
        var p = m.parameters
        let expected = try Executor(graph: m.graph, backend: ReferenceBackend())
            .forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)[m.graph.outputs[0]]!.scalars
        let got = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape).run(x).scalars
        let scale = expected.map(abs).max()!
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "\(got) vs \(expected)")
    }
}

/// The engine flushes denormals only while it works: the caller's thread keeps its float mode, so a
/// float16 subnormal (1e-6 is below half's smallest normal, 6.1e-5) survives a conversion afterwards.
@Suite struct FloatModeTests {
    @Test func engineDoesNotLeakFlushToZero() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        _ = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28]).run(Tensor(zeros: [1, 1, 28, 28]))
        var p = m.parameters, rng = SeededRandom(seed: 0)
        _ = try Executor(graph: m.graph, backend: try DNNLBackend()).forward(feeds: ["image": Tensor(zeros: [2, 1, 28, 28])],
                                                                             parameters: &p, mode: .training, rng: &rng)
        let tiny: Float = 1e-6
        #if arch(x86_64) || arch(arm64)
        #expect(Float(Float16(tiny)) != 0)
        #endif
    }
}
