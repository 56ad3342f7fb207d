/// Per-class loss weights that make each class contribute equally to a weighted cross-entropy.
///
/// `w_c = N / (K · n_c)` (scikit-learn's "balanced"): inversely proportional to frequency and normalised
/// so that `Σ_c n_c · w_c = N`, i.e. the weighted loss keeps the scale of the unweighted one and the
/// learning rate need not change. For PneumoniaMNIST's training split (1214 normal, 3494 pneumonia)
/// that is ≈ [1.94, 0.67].
public func inverseFrequencyClassWeights(counts: [Int]) throws -> [Float] {
    guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else {
        throw DataError(.invalidArgument, file: "class weights",
                        "every class needs at least one sample to weight it, counts are \(counts)")
    }
    let total = Double(counts.reduce(0, +)), k = Double(counts.count)
    return counts.map { Float(total / (k * Double($0))) }
}

extension ImageSplit {
    /// `inverseFrequencyClassWeights` of this split's class counts.
    public func classWeights() throws -> [Float] {
        do {
            return try inverseFrequencyClassWeights(counts: classCounts)
        } catch let error as DataError {
            throw DataError(error.kind, file: error.file, item: "\(split.rawValue)_labels", error.message)
        }
    }
}
