import Foundation

/// The arithmetic of one Adam step (PyTorch's order of operations): what every backend's `adamStep` computes,
/// over all elements at once or in chunks.
public struct AdamUpdate: Sendable {
    public let learningRate, weightDecay, beta1, beta2, epsilon: Float
    /// AdamW: the weights decay by `lr·wd` directly instead of through the gradient.
    public let decoupled: Bool
    /// `lr / (1 − β₁ᵗ)` and `√(1 − β₂ᵗ)`: the bias corrections of step `t`.
    public let stepSize, correction2Root: Float

    public init(learningRate: Float, weightDecay: Float, beta1: Float, beta2: Float, epsilon: Float, decoupled: Bool, step: Int) {
        self.learningRate = learningRate; self.weightDecay = weightDecay
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.decoupled = decoupled
        let c1 = 1 - Float(pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(pow(Double(beta2), Double(step)))
        stepSize = learningRate / c1
        correction2Root = c2.squareRoot()
    }

    func checkCounts(_ p: Tensor, _ g: Tensor, _ m: Tensor, _ v: Tensor) throws {
        guard p.count == g.count, m.count == g.count, v.count == g.count else {
            throw EngineError.shape("adam", "parameter \(describe(p.shape)), gradient \(describe(g.shape)), moments \(m.count) and \(v.count) elements")
        }
    }

    /// Updates elements `range`; false when a gradient among them is NaN or ±∞ (checked in the same pass: a
    /// separate scan would read every gradient twice).
    @inline(__always)
    public func apply(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                      v: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Bool {
        let (lr, wd, b1, b2, eps, stepSize, c2Root) = (learningRate, weightDecay, beta1, beta2, epsilon, stepSize, correction2Root)
        var finite: Float = 0   // stays 0 unless some g·0 is NaN
        let decay = 1 - lr * wd
        if decoupled {
            for i in range {
                let gi = g[i]
                finite += gi * 0
                let pi = p[i] * decay
                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] = pi - stepSize * mi / (vi.squareRoot() / c2Root + eps)
            }
        } else {
            for i in range {
                let pi = p[i]
                let gi = g[i] + wd * pi
                finite += gi * 0
                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] = pi - stepSize * mi / (vi.squareRoot() / c2Root + eps)
            }
        }
        return finite.isFinite
    }
}
