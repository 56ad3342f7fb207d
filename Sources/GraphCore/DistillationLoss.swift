import Foundation

/// Knowledge-distillation loss (Hinton, Vinyals & Dean 2015) on `[N, K]` student logits `s`, teacher
/// logits `t` and labels `y` `[N]`, with temperature `T > 0` and weight `α ∈ [0, 1]`:
///
///     p = softmax(t / T),  q = softmax(s / T)
///     loss = α·T²·(1/N)·Σᵢ KL(pᵢ ‖ qᵢ) + (1 − α)·CE(s, y)
///     d loss / d s = α·T·(q − p)/N + (1 − α)·d CE / d s
///
/// which is PyTorch's `α·T²·kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") +
/// (1 − α)·cross_entropy(s, y, weight=w)`. T² keeps the soft term's gradient on the scale of the hard one's
/// as T grows (the soft gradient shrinks as 1/T). Class weights, if any, weigh the hard term only: the
/// teacher's distribution already carries its own view of the classes. The teacher is a constant: no
/// gradient flows to `t`. Plain Swift, shared by every backend, like `SoftmaxCrossEntropy`.
public enum DistillationLoss {
    public struct Saved: Sendable {
        let student: [Float]
        let teacher: [Float]
        let crossEntropy: SoftmaxCrossEntropy.Saved
        let temperature: Float
        let alpha: Float
        let rows: Int
        let classes: Int
    }

    /// The loss (a scalar tensor) and what `backward` needs.
    public static func forward(student: Tensor, teacher: Tensor, labels: Tensor, temperature: Float, alpha: Float,
                               classWeights: [Float]? = nil) throws -> (loss: Tensor, saved: Saved) {
        guard student.shape.count == 2 else {
            throw EngineError.shape("distillation", "student logits must be [N, K], got \(describe(student.shape))")
        }
        guard teacher.shape == student.shape else {
            throw EngineError.shape("distillation", "teacher logits \(describe(teacher.shape)) differ from the student's \(describe(student.shape))")
        }
        guard temperature > 0, temperature.isFinite else {
            throw EngineError.invalid("distillation", "temperature must be positive and finite, got \(temperature)")
        }
        guard alpha >= 0, alpha <= 1 else { throw EngineError.invalid("distillation", "alpha must be in [0, 1], got \(alpha)") }
        let (n, k) = (student.shape[0], student.shape[1])
        let (s, t) = (student.scalars, teacher.scalars)
        guard t.allSatisfy(\.isFinite) else {
            throw EngineError.numeric("distillation", "teacher logits hold NaN/Inf; the teacher model is broken or its input is")
        }
        let (hard, ce) = try SoftmaxCrossEntropy.forward(logits: student, labels: labels, classWeights: classWeights)
        var q = [Float](repeating: 0, count: n * k), p = q
        var kl = 0.0
        for r in 0..<n {
            let logq = logSoftmax(s[(r * k)..<(r * k + k)], temperature)
            let logp = logSoftmax(t[(r * k)..<(r * k + k)], temperature)
            for j in 0..<k {
                let pj = exp(logp[j])
                kl += pj * (logp[j] - logq[j])
                p[r * k + j] = Float(pj)
                q[r * k + j] = Float(exp(logq[j]))
            }
        }
        let T = Double(temperature), a = Double(alpha)
        let loss = Float(a * T * T * kl / Double(n) + (1 - a) * Double(hard.scalars[0]))
        guard loss.isFinite else {
            throw EngineError.numeric("distillation", "loss is \(loss) for logits \(describe(student.shape)); the model diverged or its input holds NaN/Inf")
        }
        return (Tensor(scalar: loss), Saved(student: q, teacher: p, crossEntropy: ce, temperature: temperature, alpha: alpha,
                                           rows: n, classes: k))
    }

    /// d loss / d student logits, times the incoming scalar gradient.
    public static func backward(_ saved: Saved, gradOut: Float) throws -> Tensor {
        let hard = try SoftmaxCrossEntropy.backward(saved.crossEntropy, gradOut: gradOut).scalars
        let soft = saved.alpha * saved.temperature / Float(saved.rows) * gradOut
        let keep = 1 - saved.alpha
        var g = [Float](repeating: 0, count: hard.count)
        for i in g.indices { g[i] = soft * (saved.student[i] - saved.teacher[i]) + keep * hard[i] }
        return try Tensor(shape: [saved.rows, saved.classes], scalars: g)
    }

    /// log softmax(x / T) of one row, in Double.
    private static func logSoftmax(_ row: ArraySlice<Float>, _ temperature: Float) -> [Double] {
        let z = row.map { Double($0) / Double(temperature) }
        let m = z.max() ?? 0
        let lse = m + log(z.reduce(0.0) { $0 + exp($1 - m) })
        return z.map { $0 - lse }
    }
}
