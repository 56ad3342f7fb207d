import CPUBackend
import GraphCore
import Foundation
import Optimize
import Profile
import Runtime

/// One model as the runtime runs it: exact params/MACs from the IR, batch-1 latency and planned memory,
/// throughput at the throughput batch, each from a compiled `InferencePlan`.
///
/// Times are the minimum over the timed runs: on a shared machine other processes' load only ever adds
/// time (and with OpenMP a descheduled thread stalls a whole step), so the minimum is the stable estimate
/// of what the model costs. A rewritten model is timed interleaved with the baseline (`pairedBase`), run
/// for run, so that both see the same conditions and their ratio is what is reported.
struct ModelMeasurement {
    var parameters: Int
    var macs: Int
    var latencyMs: Double
    var throughput: Double
    var plannedBytes: Int
    var weightBytes: Int
    var arenaBytes: Int
    var scratchpadBytes: Int
    /// The batch-1 plan and the throughput-batch plan.
    var plan: InferencePlan
    var batchPlan: InferencePlan
    /// The baseline's latency and throughput timed interleaved with this model's runs.
    var pairedBase: (latencyMs: Double, throughput: Double)?

    /// Relative change against `base`, as the report's fields.
    func compared(to base: ModelMeasurement, outputChange: Double?) -> Measurement {
        let (baseLatency, baseThroughput) = pairedBase ?? (base.latencyMs, base.throughput)
        return Measurement(params_reduction: 1 - Double(parameters) / Double(base.parameters),
                           macs_reduction: 1 - Double(macs) / Double(base.macs),
                           speedup: baseLatency / latencyMs,
                           memory_change: Double(plannedBytes) / Double(base.plannedBytes) - 1,
                           throughput_change: throughput / baseThroughput - 1,
                           max_output_change: outputChange)
    }
}

/// How the analysis times and checks models.
struct Measurer {
    var inputName: String
    var sampleShape: [Int]
    var options: OptimizationAnalysis.Options

    /// Compiles `graph` for batch 1 and the throughput batch (with `makePlan` when given, else the runtime's
    /// plan with `layout`, `fuse`, `precision`) and times both, interleaved with `base`'s plans when given.
    func measure(_ graph: Graph, _ parameters: ParameterStore, pairedWith base: ModelMeasurement? = nil,
                 layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
                 makePlan: ((_ inputShape: [Int]) throws -> InferencePlan)? = nil) throws -> ModelMeasurement {
        let compute = try ComputeProfile(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        let make = makePlan ?? { shape in
            try InferencePlan(graph: graph, parameters: parameters, inputName: inputName, inputShape: shape, layout: layout, fuse: fuse,
                              precision: precision)
        }
        let plan1 = try make([1] + sampleShape)
        let planT = try make([options.throughputBatch] + sampleShape)
        let (latency, baseLatency) = try minimumTimes(plan1, base?.plan, runs: options.runs, warmup: options.warmup)
        let (batchMs, baseBatchMs) = try minimumTimes(planT, base?.batchPlan, runs: batchRuns(options.throughputBatch), warmup: 0,
                                                      budgetSeconds: 2)
        let perSecond = Double(options.throughputBatch) * 1000
        return ModelMeasurement(parameters: compute.parameters, macs: compute.macs_per_sample, latencyMs: latency,
                                throughput: perSecond / batchMs, plannedBytes: plan1.plannedBytes, weightBytes: plan1.weightBytes,
                                arenaBytes: plan1.arenaBytes, scratchpadBytes: plan1.scratchpadBytes, plan: plan1, batchPlan: planT,
                                pairedBase: base == nil ? nil : (baseLatency!, perSecond / baseBatchMs!))
    }

    /// Fewer runs for big batches: each is long.
    func batchRuns(_ batch: Int) -> Int { max(3, min(options.runs, options.runs * 8 / max(batch, 1))) }

    /// Samples per second at `batch` (minimum time over `batchRuns(batch)` runs) and the plan's bytes.
    func samplesPerSecond(_ graph: Graph, _ parameters: ParameterStore, batch: Int) throws
        -> (samplesPerSecond: Double, latencyMs: Double, plannedBytes: Int) {
        let plan = try InferencePlan(graph: graph, parameters: parameters, inputName: inputName, inputShape: [batch] + sampleShape)
        let (ms, _) = try minimumTimes(plan, nil, runs: batchRuns(batch), warmup: 0, budgetSeconds: 2)
        return (Double(batch) / (ms / 1000), ms, plan.plannedBytes)
    }

    /// Minimum milliseconds of `runs` calls of `plan`, and of `other` (same input shape) run alternately with it;
    /// past `budgetSeconds`, stops after two runs (big batches of big models take seconds per call). The first
    /// call of a plan touches its memory for the first time; the minimum discards it.
    func minimumTimes(_ plan: InferencePlan, _ other: InferencePlan?, runs: Int, warmup: Int,
                      budgetSeconds: Double = .infinity) throws -> (Double, Double?) {
        var rng = SeededRandom(seed: 1)
        let x = Tensor.randomNormal(plan.inputShape, using: &rng)
        func once(_ p: InferencePlan) throws -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try p.run(x)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
        for _ in 0..<warmup { _ = try once(plan); if let other { _ = try once(other) } }
        var best = Double.infinity, bestOther = Double.infinity
        let start = DispatchTime.now().uptimeNanoseconds
        for k in 0..<max(runs, 1) {
            if k >= 2 && Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 > budgetSeconds { break }
            best = min(best, try once(plan))
            if let other { bestOther = min(bestOther, try once(other)) }
        }
        return (best, other == nil ? nil : bestOther)
    }

    /// The logits of `graph` on `input` through the executor (oneDNN kernels, inference mode): the
    /// reference for output checks, independent of the plan compiler.
    func logits(_ graph: Graph, _ parameters: ParameterStore, _ input: Tensor) throws -> [Float] {
        var p = parameters, rng = SeededRandom(seed: 0)
        var g = graph
        if let id = g.inputID(inputName) { g.nodes[id.index].shape = input.shape }
        let pass = try Executor(graph: g, backend: Devices.preferred.backend).forward(feeds: [inputName: input], parameters: &p, mode: .inference,
                                                                              rng: &rng)
        guard let out = g.outputs.first, let y = pass[out] else { throw EngineError.invalid("analysis", "the graph has no output") }
        return y.scalars
    }

    /// `max |a − b| / max |b|`: the largest logit change relative to the reference's largest logit.
    static func outputChange(_ a: [Float], reference b: [Float]) -> Double {
        let scale = Double(b.map(abs).max() ?? 0)
        let worst = Double(zip(a, b).map { abs($0 - $1) }.max() ?? 0)
        return scale > 0 ? worst / scale : worst
    }
}
