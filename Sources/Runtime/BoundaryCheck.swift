import CPUBackend
import GraphCore

/// Float32 for the images an INT8 plan cannot classify with confidence.
///
/// INT8 moves every logit a little, so an image whose two highest logits lie close together may change class; no
/// calibration rule makes that change small enough for every such image (bench/README, "Why INT8 agreement…"). A
/// checked runtime runs every batch in INT8, then reruns in float32 the images whose INT8 logits leave less than
/// `margin` between the top two, and answers float32's logits for them. An image then takes another class than float32
/// gives it only if INT8 moved its logits by more than `margin`.
///
/// `margin` is measured on calibration images: `safety` times the largest change INT8 made there to the difference of
/// any two logits of one image (the spread of that image's logit changes, max − min, which bounds every such change).
public struct BoundaryCheck: Sendable, Equatable {
    /// Images whose top two INT8 logits differ by less than this are rerun in float32.
    public let margin: Float
    /// The largest change of a logit difference measured on the samples.
    public let largestChange: Float
    public let sampleCount: Int
    /// What the margin was measured on, for reports.
    public let source: String

    /// The margin over the largest change seen: half as much again, so that an image must move further than any
    /// calibration image did, by a wide step, before its class can differ from float32's.
    public static let safety: Float = 1.5

    public init(margin: Float, largestChange: Float, sampleCount: Int, source: String) {
        (self.margin, self.largestChange, self.sampleCount, self.source) = (margin, largestChange, sampleCount, source)
    }

    /// Measures the margin: `int8` and `reference` (its float32 twin) on `samples` (`[N] + sampleShape`, preprocessed
    /// like the model's inputs), `batch` at a time.
    public static func measured(int8: Runtime, reference: Runtime, samples: Tensor, batch: Int = 64, source: String) throws -> BoundaryCheck {
        let n = samples.shape.first ?? 0
        guard n > 0 else { throw EngineError.invalid("boundary check", "needs at least one sample, got \(describe(samples.shape))") }
        var largest: Float = 0
        for start in stride(from: 0, to: n, by: batch) {
            let x = samples.rows(start..<min(n, start + batch))
            let (a, b) = (try int8.run(x), try reference.run(x))
            let classes = try classCount(a.shape)
            let (q, f) = (a.scalars, b.scalars)
            for row in 0..<x.shape[0] {
                var lo = Float.infinity, hi = -Float.infinity
                for c in (row * classes)..<(row * classes + classes) {
                    let d = q[c] - f[c]
                    lo = min(lo, d); hi = max(hi, d)
                }
                guard (hi - lo).isFinite else {
                    throw EngineError.invalid("boundary check", "sample \(start + row) gives a non-finite logit")
                }
                largest = max(largest, hi - lo)
            }
        }
        return BoundaryCheck(margin: safety * largest, largestChange: largest, sampleCount: n, source: source)
    }

    /// The class count of a `[N, classes]` output; an error for outputs a top-two gap means nothing for.
    static func classCount(_ outputShape: [Int]) throws -> Int {
        guard outputShape.count == 2, outputShape[1] >= 2 else {
            throw EngineError.unsupported("boundary check", "needs logits of shape [N, classes ≥ 2], the model gives \(describe(outputShape))")
        }
        return outputShape[1]
    }

    /// The rows of `logits` (`[N, classes]`, row-major) whose two highest values differ by less than the margin, or
    /// are not finite.
    func uncertainRows(_ logits: UnsafeBufferPointer<Float>, classes: Int) -> [Int] {
        var rows: [Int] = []
        for row in 0..<(logits.count / classes) {
            var first = -Float.infinity, second = -Float.infinity, finite = true
            for v in logits[(row * classes)..<(row * classes + classes)] {
                finite = finite && v.isFinite
                if v > first { (first, second) = (v, first) } else if v > second { second = v }
            }
            if !finite || first - second < margin { rows.append(row) }
        }
        return rows
    }
}
