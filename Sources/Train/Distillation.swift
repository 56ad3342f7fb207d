import Data
import Foundation
import NN

/// Knowledge distillation for `Trainer`: the student (the model being trained) learns from a fixed teacher's
/// softened outputs as well as from the labels, with `DistillationLoss`
/// (`α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(student, y)`).
///
/// The teacher runs in inference mode (running batch-norm statistics, no dropout) on the very batch the
/// student sees, augmentation included, so the two are compared on the same pixels. Its logits need no
/// gradient, so its forward keeps no values. It must read the student's input (`image`, same shape) and
/// have the same classes; its architecture is free (`pneumo optimize` uses the model before the rewrites).
///
/// The teacher may be an ensemble: its distribution is then the members' mean softmax, passed on as its
/// logarithm (logits whose softmax is that mean), so that an ensemble's averaged, better-calibrated view of
/// each image is what the student learns from.
public struct Distillation: Sendable {
    /// One teacher: an inference graph (input `image`, first output logits `[N, K]`) and its parameters.
    public struct Member: Sendable {
        public let graph: Graph
        public let parameters: ParameterStore
    }

    public let members: [Member]
    /// The first member's graph (the only one unless an ensemble).
    public var teacher: Graph { members[0].graph }
    /// T > 0: larger T softens both distributions and weighs the teacher's ranking of the wrong classes more.
    public let temperature: Float
    /// α ∈ [0, 1]: the weight of the teacher's term; 0 is plain cross-entropy, 1 ignores the labels.
    public let alpha: Float

    public init(teacher: Graph, parameters: ParameterStore, temperature: Float, alpha: Float) throws {
        try self.init(ensemble: [(teacher, parameters)], temperature: temperature, alpha: alpha)
    }

    /// Distillation from the mean softmax of several teachers.
    public init(ensemble: [(graph: Graph, parameters: ParameterStore)], temperature: Float, alpha: Float) throws {
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError("distillation: temperature must be positive and finite, got \(temperature)")
        }
        guard alpha >= 0, alpha <= 1 else { throw TrainingError("distillation: alpha must be in [0, 1], got \(alpha)") }
        guard !ensemble.isEmpty else { throw TrainingError("distillation: no teacher given") }
        for (i, member) in ensemble.enumerated() where !member.graph.inputNames.contains("image") {
            throw TrainingError("distillation: teacher \(i + 1)'s graph has no input 'image' (inputs: \(member.graph.inputNames.joined(separator: ", ")))")
        }
        members = ensemble.map { Member(graph: $0.graph, parameters: $0.parameters) }
        self.temperature = temperature; self.alpha = alpha
    }

    /// One executor per member, made once per training run.
    func executors(backend: any Backend) -> [Executor] { members.map { Executor(graph: $0.graph, backend: backend) } }

    /// The teacher's logits for a batch, in inference mode (an ensemble's: log of its members' mean softmax).
    func logits(_ images: Tensor, executors: [Executor]) throws -> Tensor {
        let outputs = try zip(members, executors).map { member, executor -> Tensor in
            var parameters = member.parameters  // copy-on-write: inference mode writes nothing, so nothing is copied
            var rng = SeededRandom(seed: 0)     // unused: inference mode draws no dropout
            let pass = try executor.forward(feeds: ["image": images], parameters: &parameters, mode: .inference, rng: &rng)
            return pass[member.graph.outputs[0]]!
        }
        guard outputs.count > 1 else { return outputs[0] }
        let (n, k) = (outputs[0].shape[0], outputs[0].shape[1])
        var mean = [Double](repeating: 0, count: n * k)
        for logits in outputs {
            guard logits.shape == outputs[0].shape else {
                throw TrainingError("distillation: the teachers' outputs differ in shape (\(logits.shape) and \(outputs[0].shape))")
            }
            let x = logits.scalars
            for r in 0..<n {
                let row = x[(r * k)..<(r * k + k)].map(Double.init)
                let m = row.max()!, z = row.reduce(0) { $0 + exp($1 - m) }
                for j in 0..<k { mean[r * k + j] += exp(row[j] - m) / z / Double(outputs.count) }
            }
        }
        return try Tensor(shape: [n, k], scalars: mean.map { Float(log(max($0, 1e-30))) })
    }

    /// The single teacher's logits (a one-member ensemble).
    func logits(_ images: Tensor, executor: Executor) throws -> Tensor { try logits(images, executors: [executor]) }

    /// The loss `TrainingStep` minimises for one batch, given the teacher's logits for it.
    func loss(teacherLogits: Tensor, classWeights: [Float]?) -> TrainingStep<Adam>.LogitsLoss {
        { [temperature, alpha] logits, labels in
            let (loss, saved) = try DistillationLoss.forward(student: logits, teacher: teacherLogits, labels: labels,
                                                             temperature: temperature, alpha: alpha, classWeights: classWeights)
            return (loss.scalars[0], try DistillationLoss.backward(saved, gradOut: 1))
        }
    }
}

extension Distillation {
    /// Trains `count` teachers of `descriptor` with `config` on seeds `config.seed + 1 … + count` (the
    /// student keeps `config.seed`), each into `directory(k)`, and returns distillation from their mean
    /// softmax. With `resume`, a teacher whose folder holds a last checkpoint continues from it; `prepare` sets up each teacher's trainer (progress lines, logging).
    public static func trainingEnsemble(of descriptor: ModelDescriptor, config: TrainingConfig, count: Int, train: ImageSplit,
                                        val: ImageSplit, directory: (Int) -> URL, temperature: Float, alpha: Float,
                                        backend: any Backend, resume: Bool = false,
                                        prepare: (inout Trainer) -> Void = { _ in }) throws -> Distillation {
        let teachers = try (0..<count).map { i -> (graph: Graph, parameters: ParameterStore) in
            let k = i + 1
            var teacherConfig = config
            teacherConfig.seed = config.seed &+ UInt64(k)
            var trainer = Trainer(descriptor: descriptor, config: teacherConfig, outputDirectory: directory(k), backend: backend)
            prepare(&trainer)
            let best = try Checkpoint.read(URL(fileURLWithPath: try trainer.run(train: train, val: val, resume: resume && Trainer.hasLastCheckpoint(in: directory(k))).checkpoint))
            return (try best.graph(), best.parameters)
        }
        return try Distillation(ensemble: teachers, temperature: temperature, alpha: alpha)
    }
}
