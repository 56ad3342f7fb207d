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

    /// `weights` (`[K, …]`, row-major, K output channels) as integers, and the scale of each channel. In float32:
    /// `s_o = max|w_o| / limit` (1 for an all-zero channel), `k = clamp(roundHalfEven(w / s_o), −limit, limit)`.
    /// The integers come back as floats (exact), to be laid out by a oneDNN reorder without further rounding.
    /// `scripts/make_int8_fixtures.py` computes the same rule in NumPy.
    public func quantize(_ weights: UnsafeBufferPointer<Float>, channels: Int) -> (integers: [Float], scales: [Float]) {
        let per = weights.count / Swift.max(channels, 1)
        let l = Float(limit)
        var integers = [Float](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 1, count: channels)
        for o in 0..<channels {
            let channel = (o * per)..<((o + 1) * per)
            let m = weights[channel].reduce(Float(0)) { Swift.max($0, abs($1)) }
            let s: Float = m > 0 ? m / l : 1
            scales[o] = s
            for j in channel { integers[j] = Swift.min(Swift.max((weights[j] / s).rounded(.toNearestOrEven), -l), l) }
        }
        return (integers, scales)
    }
}
