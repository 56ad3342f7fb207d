import Foundation
import Testing
@testable import GraphCore

/// Label-smoothed cross-entropy against its closed form (PyTorch's `cross_entropy(label_smoothing=ε)`) and
/// a central finite-difference gradient in double precision of that closed form.
@Suite struct LabelSmoothingTests {
    let logits: [Float] = [2, 0, -1, 0.5, 0.3, 1.2]
    let labels: [Float] = [0, 1, 1]

    /// Σᵢ Σₖ cᵢₖ·(−log pᵢₖ) / Σᵢ w[yᵢ] with cᵢₖ = (1 − ε)·w[yᵢ]·[k = yᵢ] + ε·w[k]/K, in Double.
    func closedForm(_ x: [Double], weights w: [Double], epsilon e: Double) -> Double {
        var total = 0.0, weightSum = 0.0
        for r in 0..<3 {
            let row = Array(x[(2 * r)..<(2 * r + 2)])
            let z = log(row.map(exp).reduce(0, +))
            let y = Int(labels[r])
            for k in 0..<2 {
                let c = (k == y ? (1 - e) * w[y] : 0) + e * w[k] / 2
                total += c * (z - row[k])
            }
            weightSum += w[y]
        }
        return total / weightSum
    }

    @Test(arguments: [(0.0, [1.0, 1.0]), (0.1, [1.0, 1.0]), (0.2, [2.5, 0.7]), (1.0, [1.0, 3.0])])
    func lossAndGradientMatchClosedForm(epsilon: Double, weights: [Double]) throws {
        let x = try Tensor(shape: [3, 2], scalars: logits)
        let (loss, saved) = try SoftmaxCrossEntropy.forward(logits: x, labels: try Tensor(shape: [3], scalars: labels),
                                                            classWeights: weights.map(Float.init), labelSmoothing: Float(epsilon))
        let xd = logits.map(Double.init)
        #expect(abs(Double(loss.scalars[0]) - closedForm(xd, weights: weights, epsilon: epsilon)) < 1e-6)
        let g = try SoftmaxCrossEntropy.backward(saved, gradOut: 2).scalars
        for i in 0..<xd.count {
            var plus = xd, minus = xd
            plus[i] += 1e-5; minus[i] -= 1e-5
            let numeric = 2 * (closedForm(plus, weights: weights, epsilon: epsilon) - closedForm(minus, weights: weights, epsilon: epsilon)) / 2e-5
            #expect(abs(Double(g[i]) - numeric) < 1e-5, "logit \(i): \(g[i]) vs \(numeric)")
        }
    }

    @Test func smoothingOutsideTheUnitIntervalIsRefused() throws {
        let x = try Tensor(shape: [3, 2], scalars: logits), y = try Tensor(shape: [3], scalars: labels)
        #expect(throws: EngineError.self) { try SoftmaxCrossEntropy.forward(logits: x, labels: y, classWeights: nil, labelSmoothing: -0.1) }
        #expect(throws: EngineError.self) { try SoftmaxCrossEntropy.forward(logits: x, labels: y, classWeights: nil, labelSmoothing: 1.5) }
    }
}
