import Foundation

/// What `pneumo analyze` reports (`analysis.json`): per optimization technique, the spec's estimate from
/// the IR and rules of thumb, and the measurement of the technique applied for real.
///
/// Conventions: reductions are fractions in [0, 1] of the baseline (0.25 = a quarter fewer); speedup is
/// baseline batch-1 latency / new batch-1 latency; memory and throughput changes are fractions
/// (−0.3 = 30% less, 0.5 = 50% more); memory is the plan's planned bytes at batch 1 (weights + activation
/// arena + scratchpad; `details.memory_change_at_throughput_batch` has it at the throughput batch), throughput
/// is samples/s at `throughput_batch`. Times are minima over the runs, a rewritten model timed interleaved
/// with the baseline. Unknown values are `null`.
public struct AnalysisReport: Codable, Sendable {
    public var model: String
    public var input_size: Int
    public var channels: Int
    public var threads: Int
    public var device: String
    public var throughput_batch: Int
    public var baseline: BaselineSummary
    public var techniques: [TechniqueAnalysis]
    /// Estimated (linear latency model fitted on the two smallest batches) vs measured throughput.
    public var batching: [BatchPoint]
    /// Techniques ranked by measured benefit, the top two, and the phased roadmap; nil in files written before them.
    public var findings: KeyFindings?

    public func technique(_ name: String) -> TechniqueAnalysis? { techniques.first { $0.name == name } }
}

/// The unoptimized model as the runtime runs it (fused, channels-last plan).
public struct BaselineSummary: Codable, Sendable {
    public var parameters: Int
    public var macs_per_sample: Int
    /// 2 × MACs (`ComputeConvention`); absent in reports from before it was added.
    public var flops_per_sample: Int?
    /// Batch-1 latency: the minimum over the timed runs (see `ModelMeasurement`).
    public var latency_ms: Double
    public var throughput_samples_per_s: Double
    public var planned_bytes: Int
    public var weight_bytes: Int
    public var activation_bytes: Int
    /// Shares of batch-1 step time by operation kind, as fractions (`convolution` includes its fused ops).
    public var time_share: [String: Double]
}

public struct TechniqueAnalysis: Codable, Sendable {
    public var name: String
    public var candidate_layers: Int
    public var candidates: [String]
    public var needs_retraining: Bool
    public var sensitivity_risk: String
    public var estimated: Estimate
    public var measured: Measurement?
    /// How the estimate was made (the spec's rule of thumb, with its constants).
    public var estimate_basis: String
    /// What was measured, or why nothing was.
    public var measurement: String
    /// Extra numbers (retained energy, alternative layouts, …).
    public var details: [String: Double]

    enum CodingKeys: String, CodingKey {
        case name, candidate_layers, candidates, needs_retraining, sensitivity_risk, estimated, measured, estimate_basis, measurement, details
    }

    /// Writes `"measured": null` for a technique that was not measured rather than dropping the key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(candidate_layers, forKey: .candidate_layers)
        try c.encode(candidates, forKey: .candidates); try c.encode(needs_retraining, forKey: .needs_retraining)
        try c.encode(sensitivity_risk, forKey: .sensitivity_risk); try c.encode(estimated, forKey: .estimated)
        try c.encode(measured, forKey: .measured); try c.encode(estimate_basis, forKey: .estimate_basis)
        try c.encode(measurement, forKey: .measurement); try c.encode(details, forKey: .details)
    }
}

/// The spec's analysis-dictionary fields, as fractions.
public struct Estimate: Codable, Sendable {
    public var params_reduction: Double?
    public var macs_reduction: Double?
    public var speedup: Double?
    public var memory_change: Double?
    public var throughput_change: Double?

    public init(params_reduction: Double? = nil, macs_reduction: Double? = nil, speedup: Double? = nil, memory_change: Double? = nil,
                throughput_change: Double? = nil) {
        self.params_reduction = finite(params_reduction); self.macs_reduction = finite(macs_reduction); self.speedup = finite(speedup)
        self.memory_change = finite(memory_change); self.throughput_change = finite(throughput_change)
    }

    enum CodingKeys: String, CodingKey { case params_reduction, macs_reduction, speedup, memory_change, throughput_change }

    /// Writes `null` for unknown values rather than dropping the key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(params_reduction, forKey: .params_reduction); try c.encode(macs_reduction, forKey: .macs_reduction)
        try c.encode(speedup, forKey: .speedup); try c.encode(memory_change, forKey: .memory_change)
        try c.encode(throughput_change, forKey: .throughput_change)
    }
}

/// The same fields measured on the rewritten model, plus the output change on a fixed random batch:
/// `max |y' − y| / max |y|` over the logits, against the unoptimized model.
public struct Measurement: Codable, Sendable {
    public var params_reduction: Double?
    public var macs_reduction: Double?
    public var speedup: Double?
    public var memory_change: Double?
    public var throughput_change: Double?
    public var max_output_change: Double?

    public init(params_reduction: Double? = nil, macs_reduction: Double? = nil, speedup: Double? = nil, memory_change: Double? = nil,
                throughput_change: Double? = nil, max_output_change: Double? = nil) {
        self.params_reduction = finite(params_reduction); self.macs_reduction = finite(macs_reduction); self.speedup = finite(speedup)
        self.memory_change = finite(memory_change); self.throughput_change = finite(throughput_change)
        self.max_output_change = finite(max_output_change)
    }

    enum CodingKeys: String, CodingKey { case params_reduction, macs_reduction, speedup, memory_change, throughput_change, max_output_change }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(params_reduction, forKey: .params_reduction); try c.encode(macs_reduction, forKey: .macs_reduction)
        try c.encode(speedup, forKey: .speedup); try c.encode(memory_change, forKey: .memory_change)
        try c.encode(throughput_change, forKey: .throughput_change); try c.encode(max_output_change, forKey: .max_output_change)
    }
}

public struct BatchPoint: Codable, Sendable {
    public var batch: Int
    public var latency_ms: Double
    public var estimated_samples_per_s: Double
    public var measured_samples_per_s: Double
    public var planned_bytes: Int
}

/// JSON has no NaN or infinity: such values become unknown.
func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
