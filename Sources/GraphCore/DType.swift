/// Element types. Storage is float32 today; the others are named so that plans and files can carry them.
public enum DType: String, Sendable, Hashable, CaseIterable, Codable {
    case float32, float16, bfloat16, int8, int64

    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .int8: 1
        case .int64: 8
        }
    }
}

/// How the elements of a 4-D activation lie in memory. Shapes are always written NCHW; `channelsLast`
/// stores them NHWC, the layout oneDNN's convolution kernels run fastest on, so the CPU backend keeps
/// activations that way between ops instead of converting at every layer.
public enum Layout: String, Sendable, Hashable {
    case rowMajor
    case channelsLast
}
