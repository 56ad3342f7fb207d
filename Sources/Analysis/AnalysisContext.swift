import GraphCore
import Foundation
import Optimize
import Profile
import Runtime

/// The unoptimized model, measured once, and what every technique's analysis reads from it.
struct AnalysisContext {
    let graph: Graph
    let parameters: ParameterStore
    let inputName: String
    let sampleShape: [Int]
    let options: OptimizationAnalysis.Options
    let measurer: Measurer
    let base: ModelMeasurement
    let compute: ComputeProfile
    /// Batch-1 shapes of every node.
    let shapes: [[Int]]
    /// Fractions of batch-1 step time by `OpKind` (`convolution`, `linear`, `resize`, …).
    let share: [String: Double]
    /// The fixed random batch of the output checks, and the unoptimized model's logits on it.
    let checkInput: Tensor
    let reference: [Float]

    init(graph: Graph, parameters: ParameterStore, inputName: String, sampleShape: [Int], options: OptimizationAnalysis.Options) throws {
        self.graph = graph; self.parameters = parameters; self.inputName = inputName; self.sampleShape = sampleShape; self.options = options
        measurer = Measurer(inputName: inputName, sampleShape: sampleShape, options: options)
        base = try measurer.measure(graph, parameters)
        compute = try ComputeProfile(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape)
        shapes = try graph.inferShapes(inputs: [inputName: [1] + sampleShape])
        let breakdown = try PerformanceProfiler.operationBreakdown(base.plan, runs: max(3, options.runs / 4), endToEndMs: base.latencyMs)
        share = breakdown.percent.mapValues { $0 / 100 }
        var rng = SeededRandom(seed: options.seed)
        checkInput = Tensor.randomNormal([options.checkBatch] + sampleShape, using: &rng)
        reference = try measurer.logits(graph, parameters, checkInput)
    }

    var convShare: Double { share[OpKind.convolution.rawValue] ?? 0 }
    var linearShare: Double { share[OpKind.linear.rawValue] ?? 0 }

    /// Batch-1 MACs of node `i`.
    func macs(_ i: Int) -> Int { GraphCost.macs(of: i, in: graph, shapes: shapes) }

    var convMACs: Int { graph.nodes.indices.filter { if case .conv2d = graph.nodes[$0].op { true } else { false } }.reduce(0) { $0 + macs($1) } }
    var linearMACs: Int { graph.nodes.indices.filter { graph.nodes[$0].op == .linear }.reduce(0) { $0 + macs($1) } }

    /// Output pixels per sample of node `i` (`Ho·Wo`).
    func pixels(_ i: Int) -> Int { shapes[i].count == 4 ? shapes[i][2] * shapes[i][3] : 1 }

    func fraction(_ part: Double, of whole: Int) -> Double { whole == 0 ? 0 : part / Double(whole) }

    /// Memory change of saving `params` float32 parameters, against the planned batch-1 bytes.
    func memoryChange(savingParameters params: Double) -> Double { -4 * params / Double(base.plannedBytes) }

    /// Measures a rewritten model on the runtime, with its output change on the check batch.
    func measured(_ graph: Graph, _ parameters: ParameterStore) throws -> (Measurement, ModelMeasurement) {
        let m = try measurer.measure(graph, parameters, pairedWith: base)
        let change = Measurer.outputChange(try measurer.logits(graph, parameters, checkInput), reference: reference)
        return (m.compared(to: base, outputChange: change), m)
    }

    /// Planned memory at the throughput batch, where activations weigh more than at batch 1.
    func batchMemory(_ m: ModelMeasurement) -> [String: Double] {
        ["memory_change_at_throughput_batch": Double(m.batchPlan.plannedBytes) / Double(base.batchPlan.plannedBytes) - 1]
    }

    /// Mean and minimum of `1 − weightError²` over the changed layers (the weight energy kept).
    func keptEnergy(_ changes: [LayerChange]) -> [String: Double] {
        let kept = changes.map { max(0, 1 - $0.weightError * $0.weightError) }
        guard !kept.isEmpty else { return [:] }
        return ["mean_weight_energy_kept": kept.reduce(0, +) / Double(kept.count), "min_weight_energy_kept": kept.min()!]
    }
}
