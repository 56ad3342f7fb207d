import GraphCore
import Testing

// Comparison relative to the output's largest magnitude: how kernel and plan tests compare two float32
// computations of the same function, whose sums are reordered (one bound for the whole output, not per element,
// because a value near zero carries the absolute rounding error of its large neighbours).

/// Expects `max |a − b| ≤ tolerance · max(max |b|, floor)` (fp32 bound 1e-4 by default), saying the largest
/// difference when not. Any NaN in either fails. `floor` keeps an all-but-zero output from making the bound vanish.
public func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 1e-4, floor: Float = 1e-3,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(b.map(abs).max() ?? 1, floor)
    // `max()` skips a NaN after the first element, so NaNs are looked for on their own.
    let nan = a.contains(where: \.isNaN) || b.contains(where: \.isNaN)
    let worst = nan ? .nan : zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    #expect(a.count == b.count && !nan && worst <= tolerance * scale, "\(what): max difference \(worst), scale \(scale)",
            sourceLocation: sourceLocation)
}

/// The same on tensors, after checking their shapes.
public func expectClose(_ a: Tensor, _ b: Tensor, _ what: String, tolerance: Float = 1e-4, floor: Float = 1e-3,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.shape == b.shape else {
        Issue.record("\(what): shape \(describe(a.shape)), expected \(describe(b.shape))", sourceLocation: sourceLocation)
        return
    }
    expectClose(a.scalars, b.scalars, what, tolerance: tolerance, floor: floor, sourceLocation: sourceLocation)
}
