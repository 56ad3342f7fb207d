import Testing
@testable import Engine
@testable import Runtime

/// Expects `a` to equal `b` elementwise within `tolerance` relative to `b`'s largest magnitude (at least 1e-3), and
/// says the largest difference when not: how the runtime's tests compare outputs (fp32 bound 1e-4).
func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 1e-4,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(b.map(abs).max() ?? 1, 1e-3)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    #expect(a.count == b.count && worst <= tolerance * scale, "\(what): max difference \(worst), scale \(scale)",
            sourceLocation: sourceLocation)
}

/// Compiles a plan (`make`) and runs it once on `x` under a fresh memory tracker, expecting the allocator's
/// high-water mark while running to be the plan's planned bytes plus the output (what the SLA's memory figure rests on).
func runTracked(_ x: Tensor, sourceLocation: SourceLocation = #_sourceLocation,
                _ make: () throws -> InferencePlan) throws -> (plan: InferencePlan, output: Tensor) {
    let tracker = MemoryTracker()
    let (plan, output) = try MemoryTracker.$current.withValue(tracker) {
        let plan = try make()
        tracker.resetPeak()
        return (plan, try plan.run(x))
    }
    #expect(tracker.peakBytes == plan.plannedBytes + output.byteCount, sourceLocation: sourceLocation)
    return (plan, output)
}
