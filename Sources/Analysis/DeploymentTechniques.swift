import CPUBackend
import GraphCore
import Foundation
import Optimize
import Profile
import Runtime

/// Techniques that keep the function: memory layout and in-place ops, batch-norm folding, reduced
/// precision, and batching (the spec's analysis checkpoint 2). Each is checked for the size of its
/// output change rather than marked for retraining.
extension AnalysisContext {
    func channelOrganization() throws -> TechniqueAnalysis {
        let relus = graph.nodes.filter { $0.op == .relu || $0.op == .relu6 }
        let adds = graph.nodes.indices.filter { graph.nodes[$0].op == .add }
        let speedup = 1.2 * (1 + Double(relus.count) * 0.008)
        // In place, the largest ReLU/add output needs no second buffer.
        let largest = graph.nodes.indices.filter { graph.nodes[$0].op == .relu || graph.nodes[$0].op == .relu6 || graph.nodes[$0].op == .add }
            .map { shapes[$0].reduce(1, *) * 4 }.max() ?? 0
        let estimate = Estimate(params_reduction: 0, macs_reduction: 0, speedup: speedup,
                                memory_change: -Double(largest) / Double(base.plannedBytes), throughput_change: speedup - 1)
        // Before: every op its own step with its own output buffer (ReLU and residual add out of place).
        let unfused = try measurer.measure(graph, parameters, pairedWith: base, fuse: false)
        let fused = unfused.pairedBase!
        var rng = SeededRandom(seed: options.seed &+ 2)
        let one = Tensor.randomNormal([1] + sampleShape, using: &rng)
        let change = Measurer.outputChange(try base.plan.run(one).scalars, reference: try unfused.plan.run(one).scalars)
        let measurement = Measurement(params_reduction: 0, macs_reduction: 0, speedup: unfused.latencyMs / fused.latencyMs,
                                      memory_change: Double(base.plannedBytes) / Double(unfused.plannedBytes) - 1,
                                      throughput_change: fused.throughput / unfused.throughput - 1, max_output_change: change)
        // The other layout: oneDNN's blocked formats (nChw16c) chosen per convolution.
        let blocked = try measurer.measure(graph, parameters, pairedWith: base, layout: .blocked).compared(to: base, outputChange: nil)
        return TechniqueAnalysis(
            name: "channel_organization", candidate_layers: relus.count + adds.count,
            candidates: ["\(relus.count) ReLU", "\(adds.count) residual add"], needs_retraining: false,
            sensitivity_risk: "none: same function (float summation order only)",
            estimated: estimate, measured: measurement,
            estimate_basis: "channels_last ×1.2, × (1 + 0.008 per ReLU made in place); memory: the largest ReLU/add output not duplicated",
            measurement: "unfused plan (separate ReLU and add steps, new buffer each) → fused channels-last plan "
                + "(conv+bias+add+ReLU, residual accumulated in place); blocked layout in details",
            details: ["blocked_layout_speedup": blocked.speedup ?? .nan, "blocked_layout_throughput_change": blocked.throughput_change ?? .nan,
                      "blocked_layout_memory_change": blocked.memory_change ?? .nan,
                      "unfused_latency_ms": unfused.latencyMs, "fused_latency_ms": fused.latencyMs,
                      "unfused_planned_bytes": Double(unfused.plannedBytes), "fused_planned_bytes": Double(base.plannedBytes),
                      "memory_change_at_throughput_batch": Double(base.batchPlan.plannedBytes) / Double(unfused.batchPlan.plannedBytes) - 1])
    }

    func batchNormFolding() throws -> TechniqueAnalysis {
        let consumers = graph.consumerCounts()
        let foldable = graph.nodes.indices.filter { i in
            guard case .batchNorm2d = graph.nodes[i].op else { return false }
            let x = graph.nodes[i].inputs[0]
            if case .conv2d = graph[x].op { return consumers[x.index] == 1 }
            return false
        }
        // γ and β (2C trainable) become one bias (C), unless the conv had one.
        let saved = foldable.reduce(0) { total, i in
            let conv = graph[graph.nodes[i].inputs[0]]
            return total + shapes[i][1] * (conv.inputs.count == 3 ? 2 : 1)
        }
        let folded = try InferenceRewrites.prepareForInference(graph, parameters)
        let after = try ComputeProfile(graph: folded.graph, parameters: folded.parameters, sampleShape: sampleShape)
        let change = Measurer.outputChange(try measurer.logits(folded.graph, folded.parameters, checkInput), reference: reference)
        return TechniqueAnalysis(
            name: "batch_norm_folding", candidate_layers: foldable.count, candidates: foldable.map { graph.nodes[$0].name },
            needs_retraining: false, sensitivity_risk: "none: exact up to float rounding",
            estimated: Estimate(params_reduction: fraction(Double(saved), of: base.parameters), macs_reduction: 0),
            measured: Measurement(params_reduction: 1 - Double(after.parameters) / Double(base.parameters),
                                  macs_reduction: 1 - Double(after.macs_per_sample) / Double(base.macs), max_output_change: change),
            estimate_basis: "each batch-norm after a conv: γ, β → one conv bias",
            measurement: "folded graph through the executor; the runtime always folds, so its time is not measured apart",
            details: [:])
    }

    func mixedPrecision(_ dtype: DType) throws -> TechniqueAnalysis {
        let label = dtype == .float16 ? "FP16" : "BF16"
        let eligible = graph.nodes.filter { if case .conv2d = $0.op { true } else { $0.op == .linear } }
        let coverage = 100 * (convShare + linearShare)
        let speedup = coverage > 50 ? 1.8 + (coverage - 50) * 0.014 : 1 + coverage / 100 * 0.8
        let estimate = Estimate(params_reduction: 0, macs_reduction: 0, speedup: speedup, memory_change: -0.5, throughput_change: speedup - 1)
        // Deployment order: fold, then cast the folded weights. Activations stay float32 here.
        let folded = try InferenceRewrites.prepareForInference(graph, parameters)
        let cast = try InferenceRewrites.roundWeights(folded.graph, folded.parameters, to: dtype)
        let weightsOnly = Measurer.outputChange(try measurer.logits(cast.graph, cast.parameters, checkInput), reference: reference)
        var measurement = Measurement(params_reduction: 0, macs_reduction: 0, max_output_change: weightsOnly)
        var details = ["coverage_percent": coverage, "weights_only_output_change": weightsOnly]
        var how = "weights folded then rounded to \(label) (nearest-even), run in float32: the output change is the weights' share; "
            + "no \(label) plan on this machine (OptimizationAnalysis.Options.precisionPlan is the seam)"
        // A reduced-precision plan, when there is one: the runtime's BF16 plan on CPUs that run it natively, its FP16 plan on CPUs
        // whose streaming kernel converts half weights, or the seam's factory.
        var factory = options.precisionPlan
        var against = base
        if factory == nil, dtype == .bfloat16, Precision.isSupported(.bf16) {
            factory = { [inputName] g, p, shape, _ in
                try InferencePlan(graph: g, parameters: p, inputName: inputName, inputShape: shape, precision: .bf16)
            }
        }
        if factory == nil, dtype == .float16, Precision.isSupported(.fp16) {
            // FP16 speeds up what the streaming kernel runs (half the bytes to read), so it is timed against the same plan in
            // float32: the kernel's own gain is not FP16's.
            let streaming: @Sendable (Graph, ParameterStore, [Int], Precision) throws -> InferencePlan = { [inputName] g, p, shape, precision in
                try InferencePlan(graph: g, parameters: p, inputName: inputName, inputShape: shape, precision: precision, convolutions: .streaming)
            }
            against = try measurer.measure(graph, parameters) { shape in try streaming(graph, parameters, shape, .fp32) }
            factory = { g, p, shape, _ in try streaming(g, p, shape, .fp16) }
        }
        if let factory {
            let m = try measurer.measure(graph, parameters, pairedWith: against) { shape in try factory(graph, parameters, shape, dtype) }
            // Output change of the whole plan (weights and activations in reduced precision) on the check batch, one sample at a time.
            let worst = try worstChange(m.plan, checkInput, reference: reference)
            measurement = m.compared(to: against, outputChange: worst)
            details.merge(batchMemory(m)) { a, _ in a }
            details["plan_output_change"] = worst
            how = options.precisionPlan != nil
                ? "\(label) plan from Options.precisionPlan, timed; output change of the plan on the check batch"
                : dtype == .bfloat16
                ? "the runtime's BF16 plan (bf16 weights and activations, f32 accumulation), timed; output change of the plan on the check batch"
                : "the runtime's FP16 plan (weights rounded to half, streamed as half by the weight-streaming kernel where it applies; "
                + "float32 activations and arithmetic), timed against the same plan in float32; output change of the plan on the check batch"
        }
        let change = measurement.max_output_change ?? weightsOnly
        let risk = change < 1e-2 ? "low" : "medium"
        return TechniqueAnalysis(
            name: dtype == .float16 ? "mixed_precision_fp16" : "mixed_precision_bf16", candidate_layers: eligible.count,
            candidates: eligible.map(\.name), needs_retraining: false,
            sensitivity_risk: "\(risk): max logit change \(String(format: "%.2g", change)) relative; validate sensitivity on the test set",
            estimated: estimate, measured: measurement,
            estimate_basis: "coverage = conv + linear time share (\(String(format: "%.0f", coverage))%); "
                + "speedup = 1.8 + (coverage − 50) × 0.014 above 50%; memory × 0.5",
            measurement: how, details: details)
    }

    /// The largest relative output change of batch-1 `plan` over the samples of `input`, each against its rows
    /// of `reference` (a reduced-precision plan's change, measured one sample at a time as it would serve).
    func worstChange(_ plan: InferencePlan, _ input: Tensor, reference: [Float]) throws -> Double {
        let n = input.shape[0], classes = reference.count / n
        return try (0..<n).reduce(0.0) { worst, k in
            let y = try plan.run(input.rows(k..<(k + 1))).scalars
            return max(worst, Measurer.outputChange(y, reference: Array(reference[(k * classes)..<((k + 1) * classes)])))
        }
    }

    /// INT8 post-training quantization: the `Int8Quantization` rewrite (per-tensor activation grids from
    /// calibration, per-channel weight grids), compiled into the runtime's INT8 plan and timed.
    func int8Quantization() throws -> TechniqueAnalysis {
        let convs = graph.nodes.filter { if case .conv2d = $0.op { true } else { false } }
        // VNNI's vpdpbusd does 4 int8 multiply-adds per 32-bit lane where FMA does one float; a third of
        // that survives memory traffic and requantization in practice. Without VNNI (7-bit weights) vpmaddubsw
        // and vpmaddwd take two instructions for vpdpbusd's one: half that. Without int8 kernels: no gain.
        let weightRange = Precision.isSupported(.int8) ? CPUDevice.int8WeightRange : nil
        let gain = weightRange == nil ? 1.0 : weightRange == .full ? 3.0 : 1.5
        let speedup = 1 / ((1 - convShare) + convShare / gain)
        let estimate = Estimate(params_reduction: 0, macs_reduction: 0, speedup: speedup, memory_change: -0.75,
                                throughput_change: speedup - 1)
        // Calibrated on the given images but the last `checkBatch`, which the output change is measured on: the
        // random check batch lies outside any real calibration range. Without images, random both ways.
        var rng = SeededRandom(seed: options.seed &+ 3)
        let samples: Tensor, check: Tensor, checkReference: [Float], source: String
        if let images = options.calibrationImages, images.shape[0] > 2 * options.checkBatch {
            let n = images.shape[0]
            samples = images.rows(0..<(n - options.checkBatch))
            check = images.rows((n - options.checkBatch)..<n)
            checkReference = try measurer.logits(graph, parameters, check)
            source = "given images"
        } else {
            samples = Tensor.randomNormal([32] + sampleShape, using: &rng)
            (check, checkReference, source) = (checkInput, reference, "random normal inputs")
        }
        let calibration = try Int8Calibration(graph: graph, parameters: parameters, inputName: inputName, samples: samples, source: source)
        // Weights on the grid the plan computes with here, so that they are rounded once (7-bit without VNNI).
        let q = try Int8Quantization.quantize(graph, parameters, calibration: calibration, inputName: inputName, weights: weightRange ?? .full)
        // Without int8 kernels there is no INT8 plan: the quantized graph runs in float32 (same rounding, no speed-up).
        let int8 = weightRange != nil
        let m = try measurer.measure(q.graph, q.parameters, pairedWith: base, precision: int8 ? .int8 : .fp32)
        let worst = try worstChange(m.plan, check, reference: checkReference)
        var details = batchMemory(m)
        details["weight_error_max"] = q.changes.map(\.weightError).max() ?? 0
        details["calibration_samples"] = Double(calibration.sampleCount)
        details["vnni"] = Precision.hasVNNI ? 1 : 0
        details["int8_weight_bits"] = weightRange == .full ? 8 : weightRange == .reduced ? 7 : 0
        return TechniqueAnalysis(
            name: "int8_quantization", candidate_layers: convs.count, candidates: convs.map(\.name), needs_retraining: false,
            sensitivity_risk: "medium: max logit change \(String(format: "%.2g", worst)) relative with \(calibration.source); "
                + "calibrate on training images and validate sensitivity on val (pneumo bench infer --agreement-data)",
            estimated: estimate, measured: m.compared(to: base, outputChange: worst),
            estimate_basis: "conv time share \(String(format: "%.0f", 100 * convShare))% runs \(gain)× faster (INT8 plan here: \(Precision.isSupported(.int8))); "
                + "weights and activations × 0.25",
            measurement: "Int8Quantization rewrite calibrated on \(calibration.sampleCount) \(calibration.source), "
                + (int8 ? "the runtime's INT8 plan (u8/s8 activations, \(weightRange!.rawValue) s8 weights on \(CPUDevice.isaName), int32 accumulation), timed; "
                        : "run in float32 (no int8 kernels here, so no INT8 plan: the same rounding, not its speed), timed; ")
                + "output change on "
                + (source == "given images" ? "\(options.checkBatch) held-out given images" : "the random check batch"),
            details: details)
    }

    /// Throughput against batch size: a linear latency model `t(B) = a + b·B` fitted on the two smallest
    /// batches predicts the larger ones (the estimate); each is measured.
    func batching() throws -> (TechniqueAnalysis, [BatchPoint]) {
        let sizes = Array(Set(options.batchSizes + [1, options.throughputBatch])).sorted()
        var measured: [(batch: Int, ms: Double, planned: Int)] = []
        for b in sizes {
            if b == 1 { measured.append((1, base.latencyMs, base.plannedBytes)); continue }
            if b == options.throughputBatch {
                measured.append((b, Double(b) * 1000 / base.throughput, base.batchPlan.plannedBytes))
                continue
            }
            let r = try measurer.samplesPerSecond(graph, parameters, batch: b)
            measured.append((b, r.latencyMs, r.plannedBytes))
        }
        let (b0, t0) = (Double(measured[0].batch), measured[0].ms)
        let (b1, t1) = measured.count > 1 ? (Double(measured[1].batch), measured[1].ms) : (b0 + 1, t0 * 2)
        let slope = (t1 - t0) / (b1 - b0), intercept = t0 - slope * b0
        func predicted(_ b: Int) -> Double { Double(b) / ((intercept + slope * Double(b)) / 1000) }
        let points = measured.map {
            BatchPoint(batch: $0.batch, latency_ms: $0.ms, estimated_samples_per_s: predicted($0.batch),
                       measured_samples_per_s: Double($0.batch) / ($0.ms / 1000), planned_bytes: $0.planned)
        }
        let single = points.first { $0.batch == 1 }!, big = points.first { $0.batch == options.throughputBatch }!
        let estimatedMemory = Double(base.weightBytes + base.scratchpadBytes + options.throughputBatch * base.arenaBytes)
        let estimate = Estimate(params_reduction: 0, macs_reduction: 0, speedup: big.estimated_samples_per_s / single.estimated_samples_per_s,
                                memory_change: estimatedMemory / Double(base.plannedBytes) - 1,
                                throughput_change: big.estimated_samples_per_s / single.estimated_samples_per_s - 1)
        let measurement = Measurement(params_reduction: 0, macs_reduction: 0, speedup: big.measured_samples_per_s / single.measured_samples_per_s,
                                      memory_change: Double(big.planned_bytes) / Double(base.plannedBytes) - 1,
                                      throughput_change: big.measured_samples_per_s / single.measured_samples_per_s - 1, max_output_change: nil)
        let best = points.max { $0.measured_samples_per_s < $1.measured_samples_per_s }!
        var details: [String: Double] = ["best_throughput_batch": Double(best.batch)]
        for p in points {
            details["estimated_samples_per_s_batch_\(p.batch)"] = p.estimated_samples_per_s
            details["measured_samples_per_s_batch_\(p.batch)"] = p.measured_samples_per_s
        }
        let technique = TechniqueAnalysis(
            name: "batching", candidate_layers: 0, candidates: sizes.map { "batch \($0)" }, needs_retraining: false,
            sensitivity_risk: "none: same function per sample",
            estimated: estimate, measured: measurement,
            estimate_basis: "t(B) = a + b·B fitted on batches \(measured[0].batch) and \(measured.count > 1 ? measured[1].batch : 2); "
                + "activation memory × B, weights once; speedup = per-sample throughput at batch \(options.throughputBatch) vs 1",
            measurement: "a plan per batch size, timed (batch \(best.batch) has the most samples/s); real-time wants batch 1",
            details: details)
        return (technique, points)
    }
}
