import CKernels

/// How an INT8 convolution stores its weights: integers `k` with one scale `s` per output channel, `w ≈ s · k`.
///
/// Where int8 dot products run on AVX-512 VNNI or AMX (`vpdpbusd`, `tdpbssd`: products summed straight into
/// int32), weights take the full s8 range. Elsewhere oneDNN multiplies with `vpmaddubsw` (AVX2, AVX-512 without
/// VNNI, SSE4.1), which adds each pair of adjacent u8·s8 products in saturating 16-bit arithmetic:
/// 255·127·2 = 64,770 overflows 32,767 and the result changes. Weights in −63…63 keep every pair within
/// 255·63·2 = 32,130, so the integer arithmetic is exact again, as ONNX Runtime's and OpenVINO's "reduced range"
/// on such CPUs: one bit of weight precision for it.
public enum Int8WeightRange: String, Sendable, CaseIterable, Codable {
    /// −127…127, `s = max|w| / 127`.
    case full = "8-bit"
    /// −63…63, `s = max|w| / 63`.
    case reduced = "7-bit"

    /// The largest |k|.
    public var limit: Int { self == .full ? 127 : 63 }

    /// `weights` (`[K, …]`, row-major, K output channels) as integers, and the scale of each channel, in float32:
    /// `k = clamp(roundHalfEven(w / s), −limit, limit)` with the scale `s` of the candidates
    /// `s_j = (max|w_o| · (1 − j/100)) / limit`, j = 0…50, that minimises `Σ (k·s − w)²` (summed in double, eight
    /// lanes at a time; the first on ties). Clipping the largest weights (j > 0) pays where they are outliers: it
    /// narrows the step for all the others. Each `s_j` is a clipping bound divided by the limit, as the j = 0 rule is:
    /// then `(limit · s) / limit` is `s` again in float32, so the rounded weights' own maximum gives their scale back
    /// (what `ONNXExporter.perChannelInt8` relies on; `(m / limit) · (1 − j/100)` fails that for about one channel in
    /// 130). 8-bit weights that lie exactly on their 7-bit grid (`max|w_o| / 63`: no error there, some with every
    /// scale above) take that scale instead, so that a model quantized with 7-bit weights (a file meant for CPUs
    /// without VNNI too) keeps its weights exactly on a CPU with VNNI instead of being rounded twice. An all-zero channel has
    /// scale 1. Weights already on a grid of their maximum keep it (j = 0, or the 7-bit scale, leaves no error). The
    /// integers come back as floats (exact), to be laid out by a oneDNN reorder without further rounding.
    /// `scripts/make_int8_fixtures.py` computes the same rule in NumPy.
    public func quantize(_ weights: UnsafeBufferPointer<Float>, channels: Int) -> (integers: [Float], scales: [Float]) {
        let per = weights.count / Swift.max(channels, 1)
        let l = Float(limit)
        var integers = [Float](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 1, count: channels)
        for o in 0..<channels {
            let channel = weights[(o * per)..<((o + 1) * per)]
            let m = channel.reduce(Float(0)) { Swift.max($0, abs($1)) }
            guard m > 0 else { continue }
            var best = (error: Double.infinity, scale: m / l)
            for j in 0...Self.candidates {
                let s = m * (1 - Float(j) / 100) / l
                let error = Self.squaredError(weights, channel.indices, scale: s, limit: l)
                if error < best.error { best = (error, s) }
            }
            let sevenBit = m / Float(Self.reduced.limit)
            if self == .full, best.error > 0, Self.squaredError(weights, channel.indices, scale: sevenBit, limit: l) == 0 {
                best = (0, sevenBit)
            }
            scales[o] = best.scale
            for j in channel.indices { integers[j] = Swift.min(Swift.max((weights[j] / best.scale).rounded(.toNearestOrEven), -l), l) }
        }
        return (integers, scales)
    }

    /// Scales tried below the maximum's (`quantize`).
    static let candidates = 50

    /// `Σ (clamp(roundHalfEven(w / s), −l, l) · s − w)²` over `range` (in C: the scale search is most of an INT8 plan's
    /// compile time).
    static func squaredError(_ w: UnsafeBufferPointer<Float>, _ range: Range<Int>, scale s: Float, limit l: Float) -> Double {
        range.isEmpty ? 0 : pneumo_int8_squared_error(w.baseAddress! + range.lowerBound, Int64(range.count), s, l)
    }
}
