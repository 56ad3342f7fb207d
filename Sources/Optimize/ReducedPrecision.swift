import GraphCore

extension InferenceRewrites {
    /// Rounds every parameter and buffer to `dtype` (`.float16` or `.bfloat16`, round-to-nearest-even)
    /// and back to float32: the weights a reduced-precision deployment computes with. The graph is
    /// unchanged. Run it after `prepareForInference`, as a deployment would (fold, then cast), so that the
    /// folded weights are what is rounded.
    ///
    /// Preserves: the function up to the weights' rounding (relative 2⁻¹¹ per weight for FP16, 2⁻⁸ for
    /// BF16; FP16 also flushes magnitudes below 2⁻²⁴ to zero and overflows above 65504). Activations
    /// stay float32 here, so the measured output change is the weights' share of the cast's error.
    public static func roundWeights(_ graph: Graph, _ parameters: ParameterStore, to dtype: DType) throws
        -> (graph: Graph, parameters: ParameterStore) {
        let round: (Float) -> Float
        switch dtype {
        case .float16: round = roundedToFloat16
        case .bfloat16: round = roundedToBFloat16
        case .float32: return (graph, parameters)
        default: throw EngineError.unsupported("round weights", "\(dtype.rawValue) is not a floating-point storage type")
        }
        var p = parameters
        for name in parameters.names {
            try p.withMutableScalars(name) { s in for i in s.indices { s[i] = round(s[i]) } }
        }
        return (graph, p)
    }

    /// `x` rounded to IEEE binary16 and back (nearest-even; ±inf past 65504).
    public static func roundedToFloat16(_ x: Float) -> Float {
        #if arch(x86_64) && !os(Linux)
        return roundedToBits(x, mantissa: 10, minExponent: -14, maxFinite: 65504)
        #else
        return Float(Float16(x))
        #endif
    }

    /// `x` rounded to bfloat16 (the top 16 bits of a float32, nearest-even) and back; NaN stays NaN.
    public static func roundedToBFloat16(_ x: Float) -> Float {
        if x.isNaN { return x }
        let bits = x.bitPattern
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return Float(bitPattern: rounded & 0xFFFF_0000)
    }

    /// Software binary16 rounding for platforms without `Float16` (Intel macOS).
    static func roundedToBits(_ x: Float, mantissa: Int, minExponent: Int, maxFinite: Float) -> Float {
        guard x.isFinite, x != 0 else { return x }
        // Spacing of representable values at x's magnitude (subnormals share the smallest one).
        let exponent = max(Int(x.exponent), minExponent)
        let ulp = Float(sign: .plus, exponent: exponent - mantissa, significand: 1)
        let r = (x / ulp).rounded(.toNearestOrEven) * ulp
        return abs(r) > maxFinite ? (r > 0 ? .infinity : -.infinity) : r
    }
}
