import CPUBackend
import Foundation
import GraphCore
import Models
import NN

/// What `pneumo bench train` measures: the full training step (forward, backward, Adam update) of a zoo model on
/// random data, timed after untimed warm-up steps.
public struct TrainingBenchmark: Sendable {
    public var model = "resnet18"
    /// Input height and width in pixels, and channels.
    public var inputSize = 64
    public var channels = 3
    public var batch = 32
    /// Timed steps, after `warmup` untimed ones.
    public var steps = 10
    public var warmup = 2

    public init() {}

    /// Times the steps on `backend` (thread count: `CPUDevice.threadCount`).
    public func run(backend: any Backend) throws -> TrainingBenchmarkResult {
        let layer = try ModelZoo.layer(model, channels: channels)
        let shape = [batch, channels, inputSize, inputSize]
        let m = try ModelGraph.training(layer, inputShape: shape, seed: 0)
        var step = TrainingStep(graph: m.graph, parameters: m.parameters,
                                optimizer: Adam(weightDecay: 1e-4), backend: backend, seed: 0)
        var rng = SeededRandom(seed: 1)
        let image = Tensor.randomNormal(shape, using: &rng)
        let label = try Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % 2) })
        var times: [Double] = [], gradientTimes: [Double] = [], optimizerTimes: [Double] = []
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        for i in 0..<(warmup + steps) {
            let start = now()
            let (_, _, gradients) = try step.computeGradients(image: image, label: label)
            let middle = now()
            try step.optimizer.step(&step.parameters, gradients: gradients, learningRate: 3e-4, on: backend)
            let end = now()
            if i >= warmup {
                times.append(Double(end - start) / 1e6)
                gradientTimes.append(Double(middle - start) / 1e6)
                optimizerTimes.append(Double(end - middle) / 1e6)
            }
        }
        let median = times.sorted()[times.count / 2]
        let macs = try GraphCost.trainingMACs(m.graph, inputs: ["image": shape, "label": [batch]])
        let forward = try GraphCost.forwardMACs(m.graph, inputs: ["image": [1] + shape.dropFirst(), "label": [1]])
        return TrainingBenchmarkResult(
            model: model, input_size: inputSize, batch: batch, steps: steps, threads: CPUDevice.threadCount, backend: backend.name,
            step_ms: median, step_ms_min: times.min()!, step_ms_max: times.max()!,
            samples_per_s: Double(batch) / (median / 1000), gflops_per_s: 2 * Double(macs) / (median / 1000) / 1e9,
            training_gflops_per_step: 2 * Double(macs) / 1e9,
            macs_per_sample: forward, flops_per_sample: ComputeConvention.flops(macs: forward),
            forward_backward_ms: gradientTimes.sorted()[gradientTimes.count / 2], optimizer_ms: optimizerTimes.sorted()[optimizerTimes.count / 2])
    }
}

/// One `TrainingBenchmark` run; the keys are `pneumo bench train --json`'s.
public struct TrainingBenchmarkResult: Encodable, Sendable {
    public let model: String
    public let input_size: Int
    public let batch: Int
    public let steps: Int
    public let threads: Int
    public let backend: String
    /// Median, fastest and slowest step.
    public let step_ms: Double
    public let step_ms_min: Double
    public let step_ms_max: Double
    public let samples_per_s: Double
    /// Hardware FLOPs (2 per MAC) of the training step per second, and per step; not the spec's per-sample GFLOPs.
    public let gflops_per_s: Double
    public let training_gflops_per_step: Double
    /// One sample's forward pass (`ComputeConvention`): MACs, and FLOPs at 2 per MAC.
    public let macs_per_sample: Int
    public let flops_per_sample: Int
    /// Medians of the two parts of a step: forward + backward, and the Adam update.
    public let forward_backward_ms: Double
    public let optimizer_ms: Double

    /// The terminal summary: step time, throughput, the two parts, GFLOP/s.
    public func summary() -> String {
        """
        \(model) \(input_size)×\(input_size), batch \(batch), \(threads) threads, \(backend)
          step      \(String(format: "%.1f", step_ms)) ms median (min \(String(format: "%.1f", step_ms_min)), max \(String(format: "%.1f", step_ms_max)), \(steps) steps)
          samples/s \(String(format: "%.1f", samples_per_s))
          parts     forward + backward \(String(format: "%.1f", forward_backward_ms)) ms, Adam \(String(format: "%.1f", optimizer_ms)) ms
          GFLOP/s   \(String(format: "%.1f", gflops_per_s)) (\(String(format: "%.2f", training_gflops_per_step)) GFLOP per step: forward + both gradients, 2 FLOPs per MAC)
        """
    }
}
