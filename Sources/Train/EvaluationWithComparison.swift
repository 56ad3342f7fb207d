/// `pneumo eval --compare --json`: an evaluation's keys with `comparison` beside them.
public struct EvaluationWithComparison: Encodable, Sendable {
    public let evaluation: ClinicalEvaluation
    public let comparison: ModelComparison

    public init(evaluation: ClinicalEvaluation, comparison: ModelComparison) {
        self.evaluation = evaluation; self.comparison = comparison
    }

    public func encode(to encoder: any Encoder) throws {
        try evaluation.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(comparison, forKey: .comparison)
    }

    enum Key: String, CodingKey { case comparison }
}
