import CPUBackend
import GraphCore

/// How fp32 plans compute convolutions: 3×3, stride-1, pad-1 ones (channel counts multiples of 16) by Winograd,
/// those with at most 16 output pixels by our weight-streaming kernel, 3×3 depthwise ones by our depthwise kernel
/// (followed by a 1×1 one: both at once, by our separable kernel), or all by oneDNN's direct convolution.
/// BF16 and INT8 plans always run oneDNN's.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable, Codable {
    /// oneDNN's direct convolution everywhere (the switch that turns our own convolutions off).
    case direct
    /// Winograd F(2×2, 3×3) (`WinogradConv3x3`: Swift transforms + oneDNN batched matmul) wherever it applies:
    /// the forced choice stays the most accurate variant (~1e-6 relative).
    case winograd
    /// Winograd F(4×4, 3×3) wherever it applies (~1e-5 relative at 512 channels), for tests and benchmarks;
    /// `auto` takes it per shape where it is the fastest.
    case winograd4x4
    /// oneDNN's direct convolution, except the weight-streaming kernel (`StreamingConv`) wherever it applies:
    /// convolutions with at most 16 output pixels in all (late ResNet stages at batch 1), on AVX-512 and AVX2 CPUs.
    case streaming
    /// oneDNN's direct convolution, except our depthwise kernel (`DepthwiseConv3x3`) for 3×3 depthwise convolutions of
    /// stride 1 or 2 (channels a multiple of the CPU's vector), on AVX-512 and AVX2 CPUs.
    case depthwise
    /// oneDNN's direct convolution, except our depthwise-separable kernel (`SeparableConv`) for a 3×3 depthwise
    /// convolution (stride 1 or 2) and the 1×1 convolution that alone reads it, as one step (channels multiples of the
    /// CPU's vector), on AVX-512 and AVX2 CPUs.
    case separable
    /// The weight-streaming, separable and depthwise kernels wherever they apply (each family a plan took must make the whole
    /// call faster than the same plan without it: `KernelFamilies`);
    /// elsewhere, per shape, time direct against Winograd F(2×2, 3×3) and F(4×4, 3×3) (each chunked and whole; F(4×4) only
    /// where its tiles need fewer products than F(2×2)'s) when compiling (same thread count, alternating calls,
    /// caches evicted before each as weights are in a whole model); keep the fastest Winograd only when it is at
    /// least 20% faster than direct on average over two races (a second race, against direct alone, confirms a
    /// winner). Decisions are kept per process by shape (`PNEUMO_WINOGRAD_VERBOSE=1` prints them).
    case auto

    public init(option value: String) throws {
        guard let a = ConvolutionAlgorithm(rawValue: value) else {
            throw EngineError.invalid("runtime", "convolutions must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
        }
        self = a
    }
}

/// Our own convolution kernels, as `ConvolutionAlgorithm.auto` weighs them: each family a plan took must make the
/// whole call faster than the same plan without it, or it is left out.
struct KernelFamilies: OptionSet, Sendable {
    let rawValue: Int
    static let streaming = KernelFamilies(rawValue: 1)
    static let winograd = KernelFamilies(rawValue: 2)
    static let depthwise = KernelFamilies(rawValue: 4)
    static let separable = KernelFamilies(rawValue: 8)

    /// In the order `auto` weighs them: streaming first, which pays off only where weights come from memory (and
    /// would otherwise hide the others' gains), Winograd (at batch 1 only: its per-shape races with caches evicted can
    /// mislead there), separable, then depthwise (which takes the depthwise convolutions of separable steps that lost).
    static let weighed: [(family: KernelFamilies, name: String)] = [(.streaming, "streaming"), (.winograd, "winograd"),
                                                                    (.separable, "separable"), (.depthwise, "depthwise")]

    /// The family a forced algorithm runs (none for `.direct` and `.auto`).
    static func forced(by algorithm: ConvolutionAlgorithm) -> KernelFamilies {
        switch algorithm {
        case .winograd, .winograd4x4: .winograd
        case .streaming: .streaming
        case .depthwise: .depthwise
        case .separable: .separable
        case .direct, .auto: []
        }
    }

    /// The family of a plan step's own kernel, if any.
    static func of(_ kernel: any ArenaKernel) -> KernelFamilies {
        switch kernel {
        case is StreamingConv: .streaming
        case is WinogradConv3x3: .winograd
        case is DepthwiseConv3x3: .depthwise
        case is SeparableConv: .separable
        default: []
        }
    }
}
