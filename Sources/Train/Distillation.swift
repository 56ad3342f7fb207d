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
public struct Distillation: Sendable {
    /// An inference graph: input `image`, first output logits `[N, K]`.
    public let teacher: Graph
    public let teacherParameters: ParameterStore
    /// T > 0: larger T softens both distributions and weighs the teacher's ranking of the wrong classes more.
    public let temperature: Float
    /// α ∈ [0, 1]: the weight of the teacher's term; 0 is plain cross-entropy, 1 ignores the labels.
    public let alpha: Float

    public init(teacher: Graph, parameters: ParameterStore, temperature: Float, alpha: Float) throws {
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError("distillation: temperature must be positive and finite, got \(temperature)")
        }
        guard alpha >= 0, alpha <= 1 else { throw TrainingError("distillation: alpha must be in [0, 1], got \(alpha)") }
        guard teacher.inputNames.contains("image") else {
            throw TrainingError("distillation: the teacher graph has no input 'image' (inputs: \(teacher.inputNames.joined(separator: ", ")))")
        }
        self.teacher = teacher; teacherParameters = parameters; self.temperature = temperature; self.alpha = alpha
    }

    /// The teacher's logits for a batch, in inference mode.
    func logits(_ images: Tensor, executor: Executor) throws -> Tensor {
        var parameters = teacherParameters  // copy-on-write: inference mode writes nothing, so nothing is copied
        var rng = SeededRandom(seed: 0)     // unused: inference mode draws no dropout
        let pass = try executor.forward(feeds: ["image": images], parameters: &parameters, mode: .inference, rng: &rng)
        return pass[teacher.outputs[0]]!
    }

    /// The loss `TrainingStep` minimises for one batch, given the teacher's logits for it.
    func loss(teacherLogits: Tensor, classWeights: [Float]?) -> TrainingStep<Adam>.LogitsLoss {
        { [temperature, alpha] logits, labels in
            let (loss, saved) = try DistillationLoss.forward(student: logits, teacher: teacherLogits, labels: labels,
                                                             temperature: temperature, alpha: alpha, classWeights: classWeights)
            return (loss.scalars[0], try DistillationLoss.backward(saved, gradOut: 1))
        }
    }
}
