import Testing
@testable import CPUBackend
import Models
import NN

/// End to end: a small CNN learns a synthetic task that is learnable by construction
/// (class 1 images have a bright upper half, class 0 a bright lower half, plus noise).
@Suite struct LearningTests {
    struct SmallCNN: Layer {
        func callAsFunction(_ x: Value) throws -> Value {
            var y = try scoped("conv1", x) { try Conv2d(Conv2dConfig(1, 8, kernel: 3, padding: 1, bias: false))($0) }
            y = try scoped("bn1", y) { try BatchNorm2d(8)($0) }.relu().maxPool2d(Pool2dAttributes(kernel: Pair(2)))
            y = try scoped("conv2", y) { try Conv2d(Conv2dConfig(8, 8, kernel: 3, stride: 2, padding: 1))($0) }.relu()
            y = try y.globalAvgPool().flatten()
            return try scoped("fc", y) { try Sequential([Dropout(0.1), Linear(8, 2)])($0) }
        }
    }

    static func batch(_ n: Int, _ rng: inout SeededRandom) throws -> (Tensor, Tensor) {
        var pixels = [Float](), labels = [Float]()
        for i in 0..<n {
            let label = i % 2
            labels.append(Float(label))
            for y in 0..<12 { for _ in 0..<12 {
                let bright = (y < 6) == (label == 1)
                pixels.append((bright ? 1 : 0) + 0.3 * rng.nextNormal())
            } }
        }
        return (try Tensor(shape: [n, 1, 12, 12], scalars: pixels), try Tensor(shape: [n], scalars: labels))
    }

    func train(backend: any Backend, steps: Int) throws -> [Float] {
        let m = try ModelGraph.training(SmallCNN(), inputShape: [16, 1, 12, 12], seed: 7)
        var step = TrainingStep(graph: m.graph, parameters: m.parameters, optimizer: Adam(), backend: backend, seed: 3)
        var data = SeededRandom(seed: 11)
        var losses: [Float] = []
        for _ in 0..<steps {
            let (x, y) = try Self.batch(16, &data)
            losses.append(try step(image: x, label: y, learningRate: 0.01).loss)
        }
        return losses
    }

    /// Chance level is ln 2 ≈ 0.69; after 60 Adam steps the task is nearly solved.
    @Test func smallCNNLearnsAndIsDeterministic() throws {
        let backend = try DNNLBackend()
        let first = try train(backend: backend, steps: 60)
        let mean = first.suffix(10).reduce(0, +) / 10
        #expect(mean < 0.2, "mean loss of the last 10 steps: \(mean)")
        let second = try train(backend: backend, steps: 60)
        #expect(first == second)
    }

    /// The same steps on the reference and the oneDNN backends follow the same trajectory
    /// (float32 summation order differs, so the losses agree to 1e-3 after 5 steps, not bit for bit).
    @Test func backendsAgreeOnTrainingSteps() throws {
        let a = try train(backend: ReferenceBackend(), steps: 5)
        let b = try train(backend: try DNNLBackend(), steps: 5)
        for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-3, "\(a) vs \(b)") }
    }
}

/// Fused convolution post-ops equal the unfused sequence (conv → add residual → ReLU).
@Suite struct FusionTests {
    @Test func convAddReluFusedEqualsUnfused() throws {
        let dnnl = try DNNLBackend()
        var rng = SeededRandom(seed: 5)
        let a = Conv2dAttributes(stride: Pair(1), padding: Pair(1))
        let x = Tensor.randomNormal([2, 16, 9, 9], using: &rng), w = Tensor.randomNormal([16, 16, 3, 3], std: 0.1, using: &rng)
        let b = Tensor.randomNormal([16], using: &rng), r = Tensor.randomNormal([2, 16, 9, 9], using: &rng)
        let fused = try dnnl.conv2d(x, weight: w, bias: b, a, fused: [.add(r), .relu]).scalars
        let plain = try dnnl.relu(try dnnl.add(try dnnl.conv2d(x, weight: w, bias: b, a), r), cap: nil).scalars
        // Same products, summed in the same kernel; only the final add's rounding may differ.
        #expect(zip(fused, plain).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        let fused6 = try dnnl.conv2d(x, weight: w, bias: nil, a, fused: [.relu6]).scalars
        #expect(fused6.allSatisfy { $0 >= 0 && $0 <= 6 })
    }
}
