import Foundation

/// Softmax cross-entropy on `[N, K]` logits, weighted and smoothed like PyTorch's
/// `cross_entropy(weight=w, label_smoothing=ε)`: with pᵢ = softmax(xᵢ) and cᵢₖ = (1 − ε)·w[yᵢ]·[k = yᵢ] + ε·w[k]/K,
/// `loss = Σᵢ Σₖ cᵢₖ·(−log pᵢₖ) / Σᵢ w[yᵢ]` (ε = 0: `Σᵢ w[yᵢ]·(−log pᵢ[yᵢ]) / Σᵢ w[yᵢ]`). Small enough that
/// every backend shares it.
public enum SoftmaxCrossEntropy {
    public struct Saved: Sendable {
        let probabilities: [Float]
        let labels: [Int]
        let weights: [Float]
        let weightSum: Float
        let classes: Int
        var labelSmoothing: Float = 0
    }

    public static func forward(logits: Tensor, labels: Tensor, classWeights: [Float]?,
                               labelSmoothing: Float = 0) throws -> (loss: Tensor, saved: Saved) {
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw EngineError.invalid("softmax_cross_entropy", "label smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        let (n, k) = (logits.shape[0], logits.shape[1])
        let x = logits.scalars
        let ys = try labels.scalars.map { v -> Int in
            guard v.isFinite, v >= 0, v < Float(k), Float(Int(v)) == v else {
                throw EngineError.invalid("softmax_cross_entropy", "label \(v) is not a class index in 0..<\(k)")
            }
            return Int(v)
        }
        let w = classWeights ?? [Float](repeating: 1, count: k)
        var probs = [Float](repeating: 0, count: n * k)
        var total = 0.0, weightSum = 0.0
        for r in 0..<n {
            let row = x[(r * k)..<(r * k + k)]
            let m = row.max() ?? 0
            var z = 0.0
            for v in row { z += exp(Double(v - m)) }
            for j in 0..<k { probs[r * k + j] = Float(exp(Double(x[r * k + j] - m)) / z) }
            let logp = Double(x[r * k + ys[r]] - m) - log(z)
            total -= Double(1 - labelSmoothing) * Double(w[ys[r]]) * logp
            if labelSmoothing > 0 {
                for j in 0..<k { total -= Double(labelSmoothing) * Double(w[j]) / Double(k) * (Double(x[r * k + j] - m) - log(z)) }
            }
            weightSum += Double(w[ys[r]])
        }
        guard weightSum > 0 else {
            throw EngineError.invalid("softmax_cross_entropy", "every label in the batch has class weight 0; the weighted mean is undefined")
        }
        let loss = Float(total / weightSum)
        guard loss.isFinite else {
            throw EngineError.numeric("softmax_cross_entropy", "loss is \(loss) for logits \(describe(logits.shape)); the model diverged or its input holds NaN/Inf")
        }
        return (Tensor(scalar: loss), Saved(probabilities: probs, labels: ys, weights: w, weightSum: Float(weightSum), classes: k,
                                            labelSmoothing: labelSmoothing))
    }

    /// d loss / d xᵢⱼ = ((Σₖ cᵢₖ)·pᵢⱼ − cᵢⱼ) / Σ w[y] (ε = 0: w[yᵢ]·(pᵢ − onehot(yᵢ)) / Σ w[y]), times the
    /// incoming scalar gradient.
    public static func backward(_ saved: Saved, gradOut: Float) throws -> Tensor {
        var g = saved.probabilities
        let (k, e) = (saved.classes, saved.labelSmoothing)
        let smoothedWeight = saved.weights.reduce(0, +) * e / Float(k)
        for (r, y) in saved.labels.enumerated() {
            let total = (1 - e) * saved.weights[y] + smoothedWeight
            for j in 0..<k {
                let target = (j == y ? (1 - e) * saved.weights[y] : 0) + e * saved.weights[j] / Float(k)
                g[r * k + j] = (total * g[r * k + j] - target) / saved.weightSum * gradOut
            }
        }
        return try Tensor(shape: [saved.labels.count, k], scalars: g)
    }
}
