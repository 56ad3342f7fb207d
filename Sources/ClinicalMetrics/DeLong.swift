import Foundation

/// DeLong, DeLong & Clarke-Pearson (1988): the AUC's variance from its structural components, for an
/// interval on one model's AUC and a test of two models' AUCs on the same images. Computed with mid-ranks
/// in O(n log n) (Sun & Xu 2014) instead of the m·n pairwise kernel; the two agree exactly.
///
/// With m positives X and n negatives Y, ψ(x, y) = 1 if x > y, ½ if equal, 0 otherwise:
///
///     V10ᵢ = (1/n) Σⱼ ψ(Xᵢ, Yⱼ),  V01ⱼ = (1/m) Σᵢ ψ(Xᵢ, Yⱼ),  AUC = mean(V10) = mean(V01)
///     Var(AUC) = S10/m + S01/n     (S the sample variances, divisor m − 1 and n − 1)
public enum DeLong {
    /// One model's AUC with its structural components.
    public struct Components: Sendable {
        public let auc: Double
        let v10: [Double]
        let v01: [Double]

        /// DeLong's variance of the AUC.
        public var variance: Double { sampleCovariance(v10, v10) / Double(v10.count) + sampleCovariance(v01, v01) / Double(v01.count) }

        /// `AUC ± z·√Var`, clipped to [0, 1] (as pROC's `ci.auc(method = "delong")`).
        public func interval(z: Double = ConfidenceInterval.z95) -> ConfidenceInterval {
            let half = z * max(variance, 0).squareRoot()
            return ConfidenceInterval(lower: max(0, auc - half), upper: min(1, auc + half))
        }
    }

    /// The AUC and its components; `nil` unless both classes have at least two images (the variance needs
    /// two of each).
    public static func components(scores: [Double], labels: [Int]) -> Components? {
        let positives = zip(scores, labels).filter { $0.1 == 1 }.map(\.0)
        let negatives = zip(scores, labels).filter { $0.1 != 1 }.map(\.0)
        let (m, n) = (positives.count, negatives.count)
        guard m >= 2, n >= 2 else { return nil }
        let rx = midRanks(positives), ry = midRanks(negatives), rz = midRanks(positives + negatives)
        // The mid-rank of Xᵢ among all images minus its mid-rank among positives counts the negatives below it
        // (ties one half); likewise for Yⱼ.
        let v10 = (0..<m).map { (rz[$0] - rx[$0]) / Double(n) }
        let v01 = (0..<n).map { 1 - (rz[m + $0] - ry[$0]) / Double(m) }
        return Components(auc: v10.reduce(0, +) / Double(m), v10: v10, v01: v01)
    }

    /// DeLong's test of two models' AUCs on the same images (paired): z = (A₁ − A₂)/√Var(A₁ − A₂), where
    /// the variance of the difference keeps the covariance of the two models' components.
    public struct Comparison: Sendable, Codable, Hashable {
        public var auc_a: Double
        public var auc_b: Double
        /// auc_a − auc_b
        public var difference: Double
        public var difference_ci95: ConfidenceInterval
        public var z: Double
        /// Two-sided.
        public var p_value: Double
    }

    /// Compares two score lists for the same images and labels; `nil` where the AUC is undefined.
    public static func compare(scoresA: [Double], scoresB: [Double], labels: [Int]) -> Comparison? {
        precondition(scoresA.count == labels.count && scoresB.count == labels.count, "scores and labels differ in length")
        guard let a = components(scores: scoresA, labels: labels), let b = components(scores: scoresB, labels: labels) else { return nil }
        let (m, n) = (Double(a.v10.count), Double(a.v01.count))
        let covariance = sampleCovariance(a.v10, b.v10) / m + sampleCovariance(a.v01, b.v01) / n
        let variance = max(a.variance + b.variance - 2 * covariance, 0)
        let difference = a.auc - b.auc
        let se = variance.squareRoot()
        let z = se > 0 ? difference / se : (difference == 0 ? 0 : .infinity * difference.sign.multiplier)
        let half = ConfidenceInterval.z95 * se
        return Comparison(auc_a: a.auc, auc_b: b.auc, difference: difference,
                          difference_ci95: ConfidenceInterval(lower: difference - half, upper: difference + half),
                          z: z, p_value: se > 0 ? min(1, 2 * normalUpperTail(abs(z))) : (difference == 0 ? 1 : 0))
    }

    /// 1-based ranks, ties sharing their mean rank.
    static func midRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            for k in i...j { ranks[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return ranks
    }

    static func sampleCovariance(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        return zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) } / Double(a.count - 1)
    }
}

private extension FloatingPointSign {
    var multiplier: Double { self == .minus ? -1 : 1 }
}
