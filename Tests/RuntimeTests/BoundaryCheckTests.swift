import Testing
import TestSupport
import CPUBackend
@testable import GraphCore
@testable import Runtime

/// A checked INT8 runtime answers float32's logits for exactly the images whose INT8 top two lie within the margin,
/// and its own for the others; the margin is 1.5 × the largest change of a logit difference on the samples.
@Suite struct BoundaryCheckTests {
    static let int8Runs = Precision.isSupported(.int8)

    func check(margin: Float) -> BoundaryCheck {
        BoundaryCheck(margin: margin, largestChange: margin / BoundaryCheck.safety, sampleCount: 1, source: "test")
    }

    /// An untrained PneumoNet in INT8 (calibrated on random inputs) and in float32; its logits lie close together, so
    /// a margin splits a batch.
    func runtimes() throws -> (int8: Runtime, fp32: Runtime, shape: [Int]) {
        let (m, shape, _) = try kernelTestModel("pneumonet")
        let int8 = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, precision: .int8, parallelism: .intraOp,
                           convolutions: .direct)
        let fp32 = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, precision: .fp32, parallelism: .intraOp,
                           convolutions: .direct)
        return (int8, fp32, shape)
    }

    func rows(_ t: Tensor) -> [[Float]] {
        let s = t.scalars, k = t.shape[1]
        return (0..<t.shape[0]).map { Array(s[($0 * k)..<($0 * k + k)]) }
    }

    func gap(_ row: [Float]) -> Float {
        let s = row.sorted(by: >)
        return s[0] - s[1]
    }

    @Test func uncertainRowsAreThoseWhoseTopTwoLieWithinTheMargin() {
        let logits: [Float] = [1, 0.6, 0,       // gap 0.4: rerun
                               0, 2, 1.4,       // 0.6: kept
                               5, 5, 0,         // a tie: rerun
                               .nan, 1, 0,      // not finite: rerun
                               0.5, -3, 0,      // exactly the margin: kept
                               .infinity, 1, 0] // not finite: rerun
        let rows = logits.withUnsafeBufferPointer { check(margin: 0.5).uncertainRows($0, classes: 3) }
        #expect(rows == [0, 2, 3, 5])
    }

    @Test(.enabled(if: int8Runs)) func uncertainImagesGetFloat32sLogitsAndTheOthersKeepInt8s() throws {
        let (int8, fp32, shape) = try runtimes()
        var rng = SeededRandom(seed: 5)
        let x = Tensor.randomNormal([13] + shape, using: &rng)
        let (q, f) = (rows(try int8.run(x)), rows(try fp32.run(x)))
        let margin = q.map(gap).sorted()[6]   // about half the batch below it
        let (out, rechecked) = try int8.checking(check(margin: margin), reference: fp32).runChecked(x)
        let uncertain = q.indices.filter { gap(q[$0]) < margin }
        #expect(rechecked == uncertain.count && (1..<13).contains(rechecked))
        for (i, row) in rows(out).enumerated() {
            if uncertain.contains(i) {
                // Rerun in sub-batches of 4, 2 and 1, whose float32 plans sum in other orders than batch 13's.
                expectClose(row, f[i], "row \(i), rerun in float32")
            } else {
                #expect(row == q[i], "row \(i) keeps its int8 logits")
            }
        }
    }

    @Test(.enabled(if: int8Runs)) func noMarginIsInt8AndAnInfiniteOneIsFloat32() throws {
        let (int8, fp32, shape) = try runtimes()
        var rng = SeededRandom(seed: 6)
        let x = Tensor.randomNormal([7] + shape, using: &rng)
        let none = try int8.checking(check(margin: 0), reference: fp32).runChecked(x)
        let plain = try int8.run(x).scalars
        #expect(none.rechecked == 0 && none.output.scalars == plain)
        let all = try int8.checking(check(margin: .infinity), reference: fp32).runChecked(x)
        #expect(all.rechecked == 7)
        expectClose(all.output.scalars, try fp32.run(x).scalars, "every image rerun")
    }

    @Test(.enabled(if: int8Runs)) func theMarginIsOneAndAHalfTimesTheLargestSpreadOfLogitChanges() throws {
        let (int8, fp32, shape) = try runtimes()
        var rng = SeededRandom(seed: 7)
        let samples = Tensor.randomNormal([11] + shape, using: &rng)
        let measured = try BoundaryCheck.measured(int8: int8, reference: fp32, samples: samples, batch: 4, source: "11 random")
        // Independently: whole-batch runs, each image's largest minus smallest logit change.
        let (q, f) = (rows(try int8.run(samples)), rows(try fp32.run(samples)))
        let largest = zip(q, f).map { a, b in
            let d = zip(a, b).map { $0 - $1 }
            return d.max()! - d.min()!
        }.max()!
        #expect(largest > 0)
        #expect(abs(measured.largestChange - largest) <= 1e-4 * largest, "batches of 4 against one of 11")
        #expect(measured.margin == 1.5 * measured.largestChange && measured.sampleCount == 11 && measured.source == "11 random")
    }

    @Test(.enabled(if: int8Runs)) func checkingNeedsAnInt8RuntimeAndAFloat32ReferenceOfTheSameModel() throws {
        let (int8, fp32, _) = try runtimes()
        #expect(throws: EngineError.self) { try fp32.checking(check(margin: 1), reference: fp32) }
        #expect(throws: EngineError.self) { try int8.checking(check(margin: 1), reference: int8) }
        let (m, shape, _) = try kernelTestModel("mobilenetv2")
        let other = Runtime(graph: m.graph, parameters: m.parameters, sampleShape: shape, precision: .fp32)
        #expect(throws: EngineError.self) { try int8.checking(check(margin: 1), reference: other) }
    }
}
