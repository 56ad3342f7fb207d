import Testing
@testable import CPUBackend
import Models
import NN
@testable import Runtime
import TestSupport

/// Batch-split plans (one single-threaded plan per slice of the batch, run in one OpenMP region) compute
/// what the intra-op plan computes. Tolerance: 1e-5 relative to the output's magnitude; the two may pick
/// differently tuned kernels (compiled for one thread, or for the team), which only reorder float32 sums.
@Suite struct BatchSplitTests {
    static let tolerance: Float = 1e-5
    /// Splitting needs a team; on a one-thread machine every plan falls back to intra-op (checked below).
    static let team = DNNLContext.threadCount

    func expectClose(_ a: [Float], _ b: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        TestSupport.expectClose(a, b, what, tolerance: Self.tolerance, sourceLocation: sourceLocation)
    }

    /// `plan` computes what the intra-op plan of PneumoNet at the same input shape computes.
    func expectMatchesIntraOp(_ plan: InferencePlan, _ x: Tensor, _ what: String) throws {
        let m = Self.pneumonet
        let whole = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        expectClose(try plan.run(x).scalars, try whole.run(x).scalars, what)
    }

    /// PneumoNet with its batch-norm statistics moved off the identity, so folding has something to fold.
    static let pneumonet: ModelGraph = {
        var m = try! ModelGraph(PneumoNet(), inputShape: [4, 1, 28, 28], seed: 11)
        var rng = SeededRandom(seed: 12)
        _ = try! Executor(graph: m.graph, backend: try! DNNLBackend())
            .forward(feeds: ["image": Tensor.randomNormal([4, 1, 28, 28], using: &rng)], parameters: &m.parameters, mode: .training, rng: &rng)
        return m
    }()

    /// Odd batches give slices of different sizes (5 → 2 + 3 on two threads).
    @Test(arguments: [2, 5, 7, 16])
    func splitMatchesIntraOp(batch: Int) throws {
        let m = Self.pneumonet
        var rng = SeededRandom(seed: UInt64(batch))
        let x = Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let whole = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .intraOp)
        let split = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .batchSplit)
        #expect(whole.parallelism == .intraOp)
        #expect(split.parallelism == (Self.team >= 2 ? .batchSplit : .intraOp))
        #expect(split.outputShape == [batch, 2])
        let expected = try whole.run(x).scalars
        expectClose(try split.run(x).scalars, expected, "pneumonet batch \(batch)")
        // Twice: every slice reuses its arena.
        expectClose(try split.run(x).scalars, expected, "second run")
    }

    @Test(arguments: PlanLayout.allCases)
    func residualNetworkSplitsInEitherLayout(layout: PlanLayout) throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 32, 32], seed: 3)
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([7, 1, 32, 32], using: &rng)
        let whole = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, layout: layout)
        let split = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, layout: layout, parallelism: .batchSplit)
        expectClose(try split.run(x).scalars, try whole.run(x).scalars, "resnet18 w0.125 \(layout) batch 7")
    }

    @Test func batchOneFallsBackToTheIntraOpPlan() throws {
        let m = Self.pneumonet
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], parallelism: .batchSplit)
        #expect(plan.parallelism == .intraOp)
        #expect(plan.parallelismReason == (Self.team >= 2 ? "batch 1: nothing to split" : "one thread: nothing to split"))
    }

    /// The whole batch on the caller's thread, compiled for one thread: the same numbers as intra-op.
    @Test(arguments: [1, 5])
    func singleThreadMatchesIntraOp(batch: Int) throws {
        let m = Self.pneumonet
        var rng = SeededRandom(seed: 20 + UInt64(batch))
        let x = Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let single = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .singleThread)
        #expect(single.parallelism == .singleThread)
        try expectMatchesIntraOp(single, x, "single-thread batch \(batch)")
    }

    /// At batch 1 `auto` races intra-op against single-thread (nothing to split) and says what it measured.
    @Test(.enabled(if: team >= 2, "needs two threads to compare"))
    func autoAtBatchOneRacesSingleThread() throws {
        let m = Self.pneumonet
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [1, 1, 28, 28], parallelism: .auto)
        #expect(plan.parallelism == .intraOp || plan.parallelism == .singleThread)
        #expect(plan.parallelismReason.hasPrefix("auto: ") && plan.parallelismReason.contains("single-thread"), "\(plan.parallelismReason)")
    }

    /// Steps created for and run on one thread inside an intra-op plan (what `auto` keeps at batch 1 for the
    /// steps that were faster alone) compute what the intra-op plan computes, and the plan says how many: oneDNN's
    /// steps, and our separable kernel's (step 3 and 7 then).
    @Test(arguments: [ConvolutionAlgorithm.direct, .separable])
    func stepsAloneInAnIntraOpPlanComputeTheSame(convolutions: ConvolutionAlgorithm) throws {
        let m = Self.pneumonet
        var rng = SeededRandom(seed: 9)
        let x = Tensor.randomNormal([1, 1, 28, 28], using: &rng)
        let whole = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: convolutions)
        let alone: Set<Int> = [0, 2, 3, 7, whole.implementations.count - 1]
        let mixed = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: convolutions, stepsAlone: alone)
        if convolutions == .separable {
            #expect(alone.allSatisfy { $0 < whole.implementations.count }
                    && [3, 7].allSatisfy { whole.implementations[$0].implementation.hasPrefix(SeparableConv.kernelName) },
                    "\(whole.implementations.map(\.implementation))")
        }
        #expect(mixed.parallelism == .intraOp)
        #expect(mixed.summary.hasPrefix("intra-op (5/\(whole.implementations.count) steps on one thread)"), "\(mixed.summary)")
        #expect(whole.summary.hasPrefix("intra-op, "))
        for _ in 0..<3 { expectClose(try mixed.run(x).scalars, try whole.run(x).scalars, "steps alone") }
        // The team's size is restored after each step run alone.
        #expect(DNNLContext.threadCount == Self.team)
    }

    /// `auto` times both and keeps one (at batch 1 maybe a plan with some steps alone), saying what it
    /// measured; whatever it keeps computes the same.
    @Test(arguments: [1, 6])
    func autoChoosesOneAndSaysWhy(batch: Int) throws {
        let m = Self.pneumonet
        var rng = SeededRandom(seed: 8)
        let x = Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: .auto)
        #expect(plan.parallelism != .auto)
        if Self.team >= 2 { #expect(plan.parallelismReason.hasPrefix("auto: ")) }
        try expectMatchesIntraOp(plan, x, "auto batch \(batch): \(plan.summary)")
    }

    /// The slices share one copy of the weights; arenas and scratchpads are per slice and all counted.
    @Test(.enabled(if: team >= 2, "needs two threads to split"))
    func memoryCountsSlicesAndSharedWeightsOnce() throws {
        let m = Self.pneumonet
        let split = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [8, 1, 28, 28], parallelism: .batchSplit)
        let slice = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [8 / Self.team, 1, 28, 28])
        #expect(split.weightBytes == slice.weightBytes)
        #expect(split.arenaBytes >= Self.team * slice.arenaBytes * 9 / 10, "\(split.arenaBytes) vs \(Self.team) × \(slice.arenaBytes)")
        #expect(split.plannedBytes == split.arenaBytes + split.weightBytes + split.scratchpadBytes)
        #expect(throws: EngineError.self) { try split.runProfiled(Tensor(zeros: [8, 1, 28, 28])) }
    }

    /// Every slice's thread flushes denormals, the caller's too (and a single-thread plan's), and the caller
    /// gets its float mode back. A 1×1 convolution of weight 1e30 on input 1e-39 (denormal) gives 1e-9
    /// without flushing, 0 with it.
    @Test(.enabled(if: team >= 2, "needs two threads to split"))
    func everySliceFlushesDenormals() throws {
        struct Scale: Layer {
            func callAsFunction(_ x: Value) throws -> Value {
                try scoped("conv", x) { try Conv2d(Conv2dConfig(1, 1, kernel: 1, bias: false))($0) }.flatten()
            }
        }
        var m = try ModelGraph(Scale(), inputShape: [1, 1, 2, 2])
        try m.parameters.set("conv.weight", Tensor(repeating: 1e30, shape: [1, 1, 1, 1]))
        let tiny = Float.leastNormalMagnitude / 16   // subnormal
        #expect(tiny.isSubnormal)
        func output(_ mode: PlanParallelism) throws -> [Float] {
            let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [4, 1, 2, 2], parallelism: mode)
            #expect(plan.parallelism == mode)
            let y = try plan.run(Tensor(repeating: tiny, shape: [4, 1, 2, 2]))
            return y.scalars
        }
        for mode in [PlanParallelism.batchSplit, .singleThread] {
            let out = try output(mode)
            #expect(out == [Float](repeating: 0, count: 16), "\(mode): \(out)")
        }
        // Intra-op, the OpenMP workers compute rows too. libgomp gives every calling thread its own team
        // (tests run on many); `withFlushedDenormals` flushes each team the first time its thread uses it.
        let out = try output(.intraOp)
        #expect(out == [Float](repeating: 0, count: 16), "intra-op: \(out)")
        #if arch(x86_64) || arch(arm64)
        let small: Float = 1e-6
        #expect(Float(Float16(small)) != 0)
        #endif
    }

    @Test func parallelismOptionIsValidated() throws {
        #expect(try PlanParallelism(option: "batch-split") == .batchSplit)
        #expect(try PlanParallelism(option: "intra-op") == .intraOp)
        #expect(try PlanParallelism(option: "single-thread") == .singleThread)
        #expect(try PlanParallelism(option: "auto") == .auto)
        #expect(throws: EngineError.invalid("runtime", "parallelism must be one of intra-op, batch-split, single-thread, auto; got 'batch'")) {
            try PlanParallelism(option: "batch")
        }
    }

    @Test func runtimePassesItsParallelismToEveryPlan() throws {
        let m = Self.pneumonet
        let runtime = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], parallelism: .batchSplit)
        #expect(try runtime.plan(batch: 4).parallelism == (Self.team >= 2 ? .batchSplit : .intraOp))
        #expect(try runtime.plan(batch: 1).parallelism == .intraOp)
        var rng = SeededRandom(seed: 3)
        let x = Tensor.randomNormal([4, 1, 28, 28], using: &rng)
        let whole = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape)
        expectClose(try runtime.run(x).scalars, try whole.run(x).scalars, "runtime")
    }
}
