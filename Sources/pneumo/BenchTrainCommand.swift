import CPUBackend
import ArgumentParser
import Foundation
import Models
import NN

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks of the engine.", subcommands: [BenchTrainCommand.self, BenchInferCommand.self, BenchConvCommand.self])
}

/// Times the full training step (forward, backward, Adam update) on random data.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time a training step (forward, backward, Adam) and print median step_ms, samples_per_s and gflops_per_s.")

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "resnet18"
    @Option(name: .customLong("input-size"), help: "Input height and width in pixels.") var inputSize = 64
    @Option(help: "Input channels.") var channels = 3
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Timed steps (after warm-up).") var steps = 10
    @Option(help: "Warm-up steps, not timed.") var warmup = 2
    @Option(help: "Threads for the kernels (default: all cores).") var threads: Int?
    @Option(help: "Backend: onednn or reference.") var backend = "onednn"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard inputSize >= 8 else { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        guard batch >= 1, steps >= 1, warmup >= 0, channels >= 1 else {
            throw ValidationError("--batch, --steps and --channels must be positive and --warmup non-negative")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
        guard Devices.backendNames.contains(backend) else {
            throw ValidationError("--backend must be \(Devices.backendNames.joined(separator: " or ")), got \(backend)")
        }
    }

    func run() throws {
        ThreadCount.apply(threads)
        let layer = try ModelZoo.layer(model, channels: channels)
        let shape = [batch, channels, inputSize, inputSize]
        let m = try ModelGraph.training(layer, inputShape: shape, seed: 0)
        let engine = try Devices.withBackend(named: backend).backend
        var step = TrainingStep(graph: m.graph, parameters: m.parameters,
                                optimizer: Adam(weightDecay: 1e-4), backend: engine, seed: 0)
        var rng = SeededRandom(seed: 1)
        let image = Tensor.randomNormal(shape, using: &rng)
        let label = try Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % 2) })
        var times: [Double] = [], gradientTimes: [Double] = [], optimizerTimes: [Double] = []
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        for i in 0..<(warmup + steps) {
            let start = now()
            let (_, _, gradients) = try step.computeGradients(image: image, label: label)
            let middle = now()
            try step.optimizer.step(&step.parameters, gradients: gradients, learningRate: 3e-4, on: engine)
            let end = now()
            if i >= warmup {
                times.append(Double(end - start) / 1e6)
                gradientTimes.append(Double(middle - start) / 1e6)
                optimizerTimes.append(Double(end - middle) / 1e6)
            }
        }
        let median = times.sorted()[times.count / 2]
        let macs = try GraphCost.trainingMACs(m.graph, inputs: ["image": shape, "label": [batch]])
        let result = BenchTrainResult(
            model: model, input_size: inputSize, batch: batch, steps: steps, threads: CPUDevice.threadCount, backend: engine.name,
            step_ms: median, step_ms_min: times.min()!, step_ms_max: times.max()!,
            samples_per_s: Double(batch) / (median / 1000), gflops_per_s: 2 * Double(macs) / (median / 1000) / 1e9,
            training_gflops_per_step: 2 * Double(macs) / 1e9,
            forward_backward_ms: gradientTimes.sorted()[gradientTimes.count / 2], optimizer_ms: optimizerTimes.sorted()[optimizerTimes.count / 2])
        if json {
            print(try result.jsonString())
        } else {
            print("""
                \(model) \(inputSize)×\(inputSize), batch \(batch), \(result.threads) threads, \(engine.name)
                  step      \(String(format: "%.1f", median)) ms median (min \(String(format: "%.1f", result.step_ms_min)), max \(String(format: "%.1f", result.step_ms_max)), \(steps) steps)
                  samples/s \(String(format: "%.1f", result.samples_per_s))
                  parts     forward + backward \(String(format: "%.1f", result.forward_backward_ms)) ms, Adam \(String(format: "%.1f", result.optimizer_ms)) ms
                  GFLOP/s   \(String(format: "%.1f", result.gflops_per_s)) (\(String(format: "%.2f", result.training_gflops_per_step)) GFLOP per step: forward + both gradients)
                """)
        }
    }
}

struct BenchTrainResult: Encodable {
    let model: String
    let input_size: Int
    let batch: Int
    let steps: Int
    let threads: Int
    let backend: String
    let step_ms: Double
    let step_ms_min: Double
    let step_ms_max: Double
    let samples_per_s: Double
    let gflops_per_s: Double
    let training_gflops_per_step: Double
    /// Medians of the two parts of a step: forward + backward, and the Adam update.
    let forward_backward_ms: Double
    let optimizer_ms: Double
}
