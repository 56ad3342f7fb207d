import GraphCore
import Testing
import GraphCore
import Models
import NN
@testable import Profile
import Runtime
import Synchronization
import TestSupport

/// Profiler arithmetic on small graphs against values computed by hand, and the memory plan checked
/// against the allocator. Timing code is exercised, never asserted on speed.
@Suite(.serialized) struct ProfileTests {
    /// conv 3→4, 3×3, pad 1 on 8×8 (no bias) → ReLU → global pool → linear 4→2 (bias).
    struct Tiny: Layer {
        func callAsFunction(_ x: Value) throws -> Value {
            var y = try scoped("conv", x) { try Conv2d(Conv2dConfig(3, 4, kernel: 3, padding: 1, bias: false))($0) }.relu()
            y = try y.globalAvgPool().flatten()
            return try scoped("fc", y) { try Linear(4, 2)($0) }
        }
    }

    @Test func macsAndParametersByHand() throws {
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        let c = try ComputeProfile(graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8])
        // conv: 4·8·8 outputs × 3·3·3 taps = 6912; linear: 4·2 = 8.
        #expect(c.macs_per_sample == 6912 + 8)
        #expect(c.flops_per_sample == 2 * 6920)
        // conv weight 4·3·3·3 = 108; fc 2·4 + 2 = 10.
        #expect(c.parameters == 118)
        #expect(c.layers.first { $0.op == "conv2d" }?.parameters == 108)
        #expect(c.topLayers(1).first?.op == "conv2d")
        #expect(abs(c.layers.map(\.share_percent).reduce(0, +) - 100) < 1e-9)
    }

    /// Element-wise operations are counted apart from the MACs (which they leave unchanged): the Tiny model's ReLU writes
    /// 4·8·8 = 256 elements and its global pool reads 256. A conv followed by a squeeze-excitation: its pool reads 256,
    /// ReLU and hard-sigmoid write 4 each, the broadcast product 256; its two 1×1 convolutions add 4·4 MACs each.
    @Test func elementwiseOperationsAreCountedApart() throws {
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        let c = try ComputeProfile(graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8])
        #expect(c.elementwise_ops_per_sample == 256 + 256)
        #expect(c.layers.first { $0.op == "relu" }?.elementwise_ops == 256 && c.layers.first { $0.op == "relu" }?.macs == 0)

        let b = GraphBuilder()
        let x = try b.input("image", shape: [1, 3, 8, 8]).conv2d(weight: b.parameter("w", shape: [4, 3, 3, 3], initializer: .zeros), bias: nil,
                                                                  Conv2dAttributes(padding: Pair(1)))
        var s = try x.globalAvgPool().conv2d(weight: b.parameter("fc1", shape: [4, 4, 1, 1], initializer: .zeros), bias: nil, .init())
        s = try s.relu().conv2d(weight: b.parameter("fc2", shape: [4, 4, 1, 1], initializer: .zeros), bias: nil, .init()).hardSigmoid()
        b.markOutputs([try x.binary(.mul, s)])
        let se = try ComputeProfile(graph: b.graph, parameters: b.parameters, sampleShape: [3, 8, 8])
        #expect(se.macs_per_sample == 6912 + 2 * 16)
        #expect(se.elementwise_ops_per_sample == 256 + 4 + 4 + 256)
        #expect(se.layers.first { $0.op == "mul" }?.elementwise_ops == 256)
    }

    @Test func resizeIsCountedApart() throws {
        let m = try ModelGraph(ResNet18(width: 0.0625, upsampleTo: 32), inputShape: [1, 3, 16, 16])
        let c = try ComputeProfile(graph: m.graph, parameters: m.parameters, sampleShape: [3, 16, 16])
        #expect(c.resize_elements_per_sample == 3 * 32 * 32)
    }

    /// For a sequential model the allocator's high-water mark equals the plan: parameters + arena +
    /// scratchpad + output, to the byte.
    @Test(arguments: [1, 4])
    func measuredPeakEqualsPlannedPeak(batch: Int) throws {
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        let (plan, memory) = try PerformanceProfiler.memory(graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8],
                                                            batch: batch, layout: .channelsLast)
        #expect(memory.measured == memory.planned)
        #expect(memory.planned == plan.plannedBytes + batch * 2 * 4)
        // Activations: the input (NHWC copy) and conv output are live together; the arena holds at least both.
        #expect(memory.activations_bytes >= batch * (3 + 4) * 64 * 4)
    }

    /// The SLA's memory figure comes from a plan compiled with the runtime's `auto` choices: the plans its races
    /// discard (single-thread or batch-split, all-direct or Winograd) are gone before the measurement starts.
    @Test(arguments: [1, 4])
    func autoPlansMeasureWhatTheyPlan(batch: Int) throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 32, 32])
        let (plan, memory) = try PerformanceProfiler.memory(graph: m.graph, parameters: m.parameters, sampleShape: [1, 32, 32],
                                                            batch: batch, layout: .channelsLast, parallelism: .auto, convolutions: .auto)
        #expect(memory.measured == memory.planned, "\(plan.summary): \(plan.parallelismReason)")
        #expect(memory.planned == plan.plannedBytes + batch * 2 * 4)
    }

    @Test func fullProfileRunsAndAddsUp() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        var options = ModelProfile.Options()
        options.batch = 4; options.runs = 5; options.warmup = 1; options.sweep = [1, 2]
        options.convolutions = .direct; options.parallelism = .intraOp   // the per-step view of the unoptimized plan
        let p = try ModelProfile.measure(name: "resnet18", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], options: options)
        #expect(p.sweep.map(\.batch) == [1, 2])
        #expect(p.latency_samples_ms.count == 5)
        #expect(abs(p.operation_breakdown.values.reduce(0, +) - 100) < 1e-6)
        #expect(p.operation_breakdown["convolution", default: 0] > 0)
        // Per-step times: one per plan step, in plan order, summing to the per-kind times.
        #expect(p.step_ms.contains { $0.name == "conv1" } && p.step_ms.allSatisfy { $0.ms >= 0 })
        let convMs = p.step_ms.filter { $0.kind == "convolution" }.map(\.ms).reduce(0, +)
        #expect(abs(convMs - p.operation_ms["convolution", default: 0]) <= 1e-9 * max(convMs, 1))
        #expect(ProfileTable.render(p).contains("slowest steps"))
        // And at the batch size asked for: the same steps, timed.
        #expect(p.batch_step_ms?.map(\.name) == p.step_ms.map(\.name))
        #expect((p.batch_step_ms ?? []).map(\.ms).reduce(0, +) > 0 && ProfileTable.render(p).contains("slowest steps at batch 4:"))
        #expect(p.plan == "intra-op, 0/20 convolutions winograd", "\(p.plan)")
        #expect(p.memory.map(\.batch) == [1, 4])
        #expect(p.peak_memory_bytes.measured == p.peak_memory_bytes.planned)
        #expect(!ProfileTable.render(p).isEmpty)
        // Compute in the spec's convention (1 MAC = 1 FLOP) beside both counts, as the SLA scorecard has it.
        #expect(p.gflops_per_sample == Double(p.macs_per_sample) / 1e9 && p.flops_per_sample == 2 * p.macs_per_sample)
        #expect(ProfileTable.render(p).contains(String(format: "GFLOPs %.4f (spec's convention: 1 MAC = 1 FLOP, as thop counts)", p.gflops_per_sample)))
        // Runs and inputs other than the spec's are said, in the JSON and the table.
        #expect(p.runs == 5 && p.warmup == 1 && p.timing_input == "random normal inputs")
        #expect(p.spec_differences == ["timed 5 runs after 1 warm-up; the spec times 100 after 10",
                                       "timed on random normal inputs, not on a batch of val images as the spec does (no data file was given)"])
        #expect(ProfileTable.render(p).contains("note: timed 5 runs after 1 warm-up; the spec times 100 after 10"))
    }

    /// The spec's sample batch serves every batch size: image i of a batch is image i mod N.
    @Test func aSampleBatchIsCycledToEveryBatchSize() throws {
        let s = try ProfileSample(images: try Tensor(shape: [3, 1, 2, 2], scalars: (0..<12).map(Float.init)), source: "three images")
        #expect(try s.batch(2, sampleShape: [1, 2, 2]).scalars == (0..<8).map(Float.init))
        #expect(try s.batch(5, sampleShape: [1, 2, 2]).scalars == (Array(0..<12) + Array(0..<8)).map(Float.init))
        #expect(throws: EngineError.self) { try s.batch(1, sampleShape: [1, 3, 3]) }
        #expect(throws: EngineError.self) { try ProfileSample(images: Tensor(zeros: [2, 4]), source: "flat") }
    }

    /// A line as each batch size starts and ends, in the order the profile times them: a profile of the spec's
    /// baseline at 224 px ran long without one.
    @Test func saysWhatIsUnderWay() throws {
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        var options = ModelProfile.Options()
        options.batch = 2; options.sweep = [1, 4]; options.runs = 3; options.warmup = 1
        let lines = Mutex<[String]>([])
        options.progress = { line in lines.withLock { $0.append(line) } }
        let p = try ModelProfile.measure(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8], options: options)
        let said = lines.withLock { $0 }
        #expect(said.count == 10, "\(said)")
        #expect(said.first == "batch 1: compiling and timing (3 runs)")
        #expect(said[1].hasPrefix(String(format: "batch 1: %.3f ms a call, ", p.latency_ms.mean)), "\(said[1])")
        #expect(said[2] == "batch 1: timing each step" && said[3] == "batch 2: compiling and timing (3 runs)")
        #expect(said[4].hasPrefix("batch 2: ") && said[4].contains("samples/s (compiled and timed in ") && said[5] == "batch 2: timing each step")
        #expect(said[6] == "batch 1: compiling and timing (sweep, 3 runs)" && said[8] == "batch 4: compiling and timing (sweep, 3 runs)")
        #expect(said[9].hasPrefix(String(format: "batch 4: %.3f ms a call, ", p.sweep[1].latency_ms)), "\(said[9])")
    }

    /// At the spec's counts, on images: nothing to say, and the profile names what it timed.
    @Test func theSpecsProfileHasNoDifferencesToSay() throws {
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        var options = ModelProfile.Options()
        options.batch = 2; options.sweep = [1]
        options.sample = try ProfileSample(images: TestData.normal([2, 3, 8, 8], seed: 5), source: "two images")
        #expect(options.runs == 100 && options.warmup == 10)
        let p = try ModelProfile.measure(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8], options: options)
        #expect(p.latency_samples_ms.count == 100 && p.batch_latency.samples_ms.count == 100)
        #expect(p.spec_differences == [] && p.timing_input == "two images" && p.runs == 100 && p.warmup == 10)
        #expect(!ProfileTable.render(p).contains("note:"))
        #expect(ProfileTable.render(p).contains("Time (100 timed runs after 10 warm-ups, on two images)"))
    }

    /// `Options.convolutions` reaches every plan the profile times, and the profile says what it timed.
    @Test func profileTimesTheConvolutionsItIsAskedFor() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 32, 32])
        var options = ModelProfile.Options()
        options.batch = 2; options.runs = 3; options.warmup = 1; options.sweep = [1]; options.convolutions = .winograd
        options.parallelism = .intraOp
        let p = try ModelProfile.measure(name: "resnet18", graph: m.graph, parameters: m.parameters, sampleShape: [1, 32, 32], options: options)
        // 16 channels and more: every 3×3 stride-1 convolution (13 of 20) takes Winograd.
        #expect(p.plan == "intra-op, 13/20 convolutions winograd", "\(p.plan)")
        #expect(p.peak_memory_bytes.measured == p.peak_memory_bytes.planned)
    }

    /// By default the profile times the plan a deployed runtime compiles (kernel families and parallelism chosen by
    /// timed races, so which ones is not asserted), says so, and times steps on an intra-op plan.
    @Test func profileTimesTheDeployedPlanByDefault() throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.125), inputShape: [1, 1, 28, 28])
        var options = ModelProfile.Options()
        #expect(options.convolutions == .auto && options.parallelism == .auto)
        options.batch = 4; options.runs = 3; options.warmup = 1; options.sweep = [1]
        let p = try ModelProfile.measure(name: "resnet18", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], options: options)
        #expect(p.convolutions == "auto" && p.parallelism == "auto")
        #expect(PlanParallelism.allCases.filter { $0 != .auto }.contains { p.plan.hasPrefix($0.rawValue) }, "\(p.plan)")
        #expect(p.step_plan?.hasPrefix("intra-op") == true, "\(p.step_plan ?? "nil")")
        #expect(p.step_ms.contains { $0.kind == "convolution" })
        #expect(ProfileTable.render(p).contains("as a deployed runtime compiles it"))
    }

    /// `Options.precision` reaches the profiled plans (their weights shrink with it), and the profile says what it
    /// timed and, for INT8 of a float model, where its activation ranges came from.
    @Test(arguments: Precision.allCases.filter { $0 != .fp32 && Precision.unsupportedReason($0) == nil })
    func profileTimesThePrecisionItIsAskedFor(_ precision: Precision) throws {
        let m = try ModelGraph(ResNet18(inChannels: 1, width: 0.25), inputShape: [1, 1, 28, 28])
        var options = ModelProfile.Options()
        options.batch = 2; options.runs = 3; options.warmup = 1; options.sweep = [1]; options.parallelism = .intraOp
        // Not `auto`: its races can give one plan Winograd, whose transformed weights are float32 and up to 4× the raw
        // ones, and not the other. The streaming kernel keeps an FP16 plan's weights in half. A BF16 plan runs oneDNN's
        // convolutions whatever is asked, while the streaming kernel keeps only the taps that read inside the map (on
        // layer4's 1×1 maps a 3×3 kernel's centre): against a streaming fp32 plan, BF16 would hold more, so both run direct.
        options.convolutions = precision == .bf16 ? .direct : .streaming
        let fp32 = try ModelProfile.measure(name: "resnet18", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], options: options)
        #expect(fp32.precision == "fp32" && fp32.calibration == nil)
        options.precision = precision
        if precision == .int8 {
            options.calibration = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: TestData.normal([4, 1, 28, 28], seed: 3),
                                                      source: "four test images")
        }
        let p = try ModelProfile.measure(name: "resnet18", graph: m.graph, parameters: m.parameters, sampleShape: [1, 28, 28], options: options)
        #expect(p.precision == precision.rawValue)
        #expect(p.calibration == (precision == .int8 ? "four test images" : nil))
        for (reduced, full) in zip(p.memory, fp32.memory) {
            #expect(reduced.parameters_bytes < full.parameters_bytes, "batch \(reduced.batch): \(reduced.parameters_bytes) against \(full.parameters_bytes)")
        }
        let table = ProfileTable.render(p)
        // The plan's summary names the precision, once.
        let planLine = try #require(table.split(separator: "\n").first { $0.contains("plan: ") })
        #expect(planLine.contains(", \(precision.rawValue)") && planLine.components(separatedBy: precision.rawValue).count == 2, "\(planLine)")
        #expect(table.contains("int8 activation ranges measured on four test images") == (precision == .int8))
    }

    /// INT8 of a float model without a calibration measures its ranges on random inputs, and says so.
    @Test func int8WithoutCalibrationSaysItsRangesAreRandom() throws {
        guard Precision.unsupportedReason(.int8) == nil else { return }
        let m = try ModelGraph(Tiny(), inputShape: [1, 3, 8, 8])
        var options = ModelProfile.Options()
        options.batch = 1; options.runs = 2; options.warmup = 0; options.sweep = [1]; options.precision = .int8
        let p = try ModelProfile.measure(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8], options: options)
        #expect(p.precision == "int8" && p.calibration?.contains("random") == true && p.calibration_random == true, "\(p.calibration ?? "nil")")
        #expect(ProfileTable.render(p).contains("(true timings; says nothing of accuracy)"))
        // Real images from a file whose name says "random" are not random inputs.
        options.calibration = try Int8Calibration(graph: m.graph, parameters: m.parameters, samples: TestData.normal([4, 3, 8, 8], seed: 5),
                                                  source: "4 train images of /data/random-split.npz")
        let real = try ModelProfile.measure(name: "tiny", graph: m.graph, parameters: m.parameters, sampleShape: [3, 8, 8], options: options)
        #expect(real.calibration_random == false)
        #expect(!ProfileTable.render(real).contains("says nothing of accuracy"))
    }

    @Test func latencyStatistics() {
        let s = LatencyStats([4, 1, 3, 2, 100])
        #expect(s.median == 3 && s.min == 1 && s.max == 100 && s.mean == 22)
        #expect(s.p95 == 100)
        // Deviations from the mean 22: −18, −21, −19, −20, 78 → Σd² = 7610; sample variance 7610 / 4.
        let expectedStd: Double = (7610.0 / 4).squareRoot()
        #expect(abs(s.std - expectedStd) < 1e-9)
    }
}

/// The real-time batch: the cheapest per image among the batches answered within the budget, not simply the largest.
@Suite struct RealtimeBatchTests {
    static func point(_ batch: Int, _ latency: Double) -> SweepPoint {
        SweepPoint(batch: batch, latency_ms: latency, per_sample_ms: latency / Double(batch), samples_per_s: 1000 * Double(batch) / latency)
    }

    @Test func lowestLatencyPerSampleWithinTheBudget() {
        // Batch 32 fits the 10 ms budget but costs more per image than 16 (0.3 vs 0.25 ms); 64 misses the budget.
        let sweep = [Self.point(1, 1.0), Self.point(16, 4.0), Self.point(32, 9.6), Self.point(64, 12)]
        #expect(SweepPoint.bestRealtime(sweep, budgetMs: 10) == 16)
        #expect(SweepPoint.bestRealtime(sweep, budgetMs: 0.5) == nil)
    }
}
