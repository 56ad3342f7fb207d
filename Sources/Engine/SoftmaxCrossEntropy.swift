import Foundation

/// Softmax cross-entropy on `[N, K]` logits, weighted like PyTorch's `cross_entropy(weight=w)`:
/// `loss = Σᵢ w[yᵢ]·(−log softmax(xᵢ)[yᵢ]) / Σᵢ w[yᵢ]`. Small enough that every backend shares it.
public enum SoftmaxCrossEntropy {
    public struct Saved: Sendable {
        let probabilities: [Float]
        let labels: [Int]
        let weights: [Float]
        let weightSum: Float
        let classes: Int
    }

    public static func forward(logits: Tensor, labels: Tensor, classWeights: [Float]?) throws -> (loss: Tensor, saved: Saved) {
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
            total -= Double(w[ys[r]]) * logp
            weightSum += Double(w[ys[r]])
        }
        guard weightSum > 0 else {
            throw EngineError.invalid("softmax_cross_entropy", "every label in the batch has class weight 0; the weighted mean is undefined")
        }
        let loss = Float(total / weightSum)
        guard loss.isFinite else {
            throw EngineError.numeric("softmax_cross_entropy", "loss is \(loss) for logits \(describe(logits.shape)); the model diverged or its input holds NaN/Inf")
        }
        return (Tensor(scalar: loss), Saved(probabilities: probs, labels: ys, weights: w, weightSum: Float(weightSum), classes: k))
    }

    /// d loss / d logits = w[y]·(softmax − onehot(y)) / Σ w[y], times the incoming scalar gradient.
    public static func backward(_ saved: Saved, gradOut: Float) throws -> Tensor {
        var g = saved.probabilities
        let k = saved.classes
        for (r, y) in saved.labels.enumerated() {
            let scale = saved.weights[y] / saved.weightSum * gradOut
            g[r * k + y] -= 1
            for j in 0..<k { g[r * k + j] *= scale }
        }
        return try Tensor(shape: [saved.labels.count, k], scalars: g)
    }
}
