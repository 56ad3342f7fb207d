import Testing
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// Compiles a plan (`make`) and runs it once on `x` under a fresh memory tracker, expecting the allocator's
/// high-water mark while running to be the plan's planned bytes plus the output (what the SLA's memory figure rests on).
func runTracked(_ x: Tensor, sourceLocation: SourceLocation = #_sourceLocation,
                _ make: () throws -> InferencePlan) throws -> (plan: InferencePlan, output: Tensor) {
    let tracker = MemoryTracker()
    let (plan, output) = try MemoryTracker.$current.withValue(tracker) {
        let plan = try make()
        tracker.resetPeak()
        return (plan, try plan.run(x))
    }
    #expect(tracker.peakBytes == plan.plannedBytes + output.byteCount, sourceLocation: sourceLocation)
    return (plan, output)
}

/// The small models our convolution kernels' plan tests run: PneumoNet (28 px, one channel) or MobileNetV2 (width 0.5,
/// 32 px), with batch-norm statistics moved off the identity by one training-mode pass; and the interpreter.
func kernelTestModel(_ name: String) throws -> (model: ModelGraph, shape: [Int], executor: Executor) {
    let (layer, shape): (any Layer, [Int]) = name == "pneumonet"
        ? (try PneumoNet(inChannels: 1, widths: [16, 32, 64, 128]), [1, 28, 28])
        : (try MobileNetV2(inChannels: 3, width: 0.5), [3, 32, 32])
    var m = try ModelGraph(layer, inputShape: [4] + shape, seed: 3)
    let executor = Executor(graph: m.graph, backend: try DNNLBackend())
    var rng = SeededRandom(seed: 9)
    _ = try executor.forward(feeds: ["image": Tensor.randomNormal([4] + shape, using: &rng)], parameters: &m.parameters,
                             mode: .training, rng: &rng)
    return (m, shape, executor)
}

/// Compiles `m` for `x` with `convolutions` (its memory tracked: `runTracked`) and all-direct, and expects the two plans
/// and the interpreter to agree on `x` (1e-4 relative).
func expectPlanAgrees(_ m: ModelGraph, _ executor: Executor, _ x: Tensor, parallelism: PlanParallelism, convolutions: ConvolutionAlgorithm,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> (on: InferencePlan, off: InferencePlan) {
    let off = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, convolutions: .direct)
    let (on, output) = try runTracked(x, sourceLocation: sourceLocation) {
        try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: x.shape, parallelism: parallelism, convolutions: convolutions)
    }
    let what = "\(convolutions) plan, batch \(x.shape[0]), \(parallelism)"
    expectClose(output.scalars, try off.run(x).scalars, "\(what) vs direct", sourceLocation: sourceLocation)
    var (p, rng) = (m.parameters, SeededRandom(seed: 0))
    let interpreted = try executor.forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)[m.graph.outputs[0]]!
    expectClose(try on.run(x).scalars, interpreted.converted(to: .rowMajor).scalars, "\(what) vs the interpreter", sourceLocation: sourceLocation)
    return (on, off)
}

/// Runs one of our kernels on `input` (NCHW; NHWC for the kernel) and returns its output row-major: into a fresh
/// `outputShape` tensor, or with `residual` (NCHW like the output) added, into the residual's own buffer when
/// `inPlace`. The workspace starts as stale bytes (0x7f), as a plan's shared scratchpad may hold.
func runArenaKernel(_ kernel: any ArenaKernel, input: Tensor, outputShape: [Int], residual: Tensor? = nil, inPlace: Bool = false) throws -> [Float] {
    let workspace = AlignedBuffer(byteCount: kernel.workspaceBytes)
    workspace.pointer.initializeMemory(as: UInt8.self, repeating: 0x7f, count: kernel.workspaceBytes)
    let bound = try kernel.bind(workspace: workspace.pointer)
    let x = input.converted(to: .channelsLast), res = residual?.converted(to: .channelsLast)
    let out = inPlace && res != nil ? res! : Tensor(uninitialized: outputShape, layout: .channelsLast)
    try kernel.run(input: x.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                   residual: res.map { UnsafePointer($0.rawPointer.assumingMemoryBound(to: Float.self)) }, workspace: bound)
    return withExtendedLifetime((workspace, x)) { out.converted(to: .rowMajor).scalars }
}
