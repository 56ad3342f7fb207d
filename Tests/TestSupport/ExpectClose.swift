import GraphCore
import Testing

// Element-wise comparison with a stated `Tolerance`. Differences are taken in Double, so that the bound and
// not float32 rounding of the check itself decides; NaN never passes, expected NaN included.

/// Checks shape and every element; one issue per tensor naming the worst element and how many fail.
public func expectClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance, _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record("\(what): shape \(describe(actual.shape)), expected \(describe(expected.shape))",
                     sourceLocation: sourceLocation)
        return
    }
    expectClose(actual.scalars.map(Double.init), expected.scalars.map(Double.init), tolerance, what,
                shape: expected.shape, sourceLocation: sourceLocation)
}

/// `expectClose` on flat values; `shape` (when given) turns the worst flat index into a multi-index.
public func expectClose(_ actual: [Double], _ expected: [Double], _ tolerance: Tolerance, _ what: String,
                        shape: [Int]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var failures = 0, worst = -1, worstExcess = 0.0
    for i in actual.indices where !tolerance.admits(actual[i], expected[i]) || actual[i].isNaN {
        failures += 1
        let excess = abs(actual[i] - expected[i]) - tolerance.rel * abs(expected[i])
        if worst < 0 || excess > worstExcess || excess.isNaN { worst = i; worstExcess = excess }
    }
    if failures > 0 {
        let at = shape.map { " at \(describe(unravel(worst, $0)))" } ?? ""
        Issue.record("""
            \(what): \(failures) of \(actual.count) elements outside \(tolerance); worst\(at) (flat \(worst)): \
            got \(actual[worst]), expected \(expected[worst])
            """, sourceLocation: sourceLocation)
    }
}

/// Logical multi-index of flat row-major index `i`.
public func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i, index = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}
