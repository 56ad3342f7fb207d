import CPUBackend
import GraphCore

/// One family of our own convolution kernels, as plans use it: the `--convolutions` values that force it, how `auto`
/// weighs it, how a plan lowers a convolution onto it, and what plans count and report of it. A family is one file (its
/// lowering and its `KernelFamily`) plus one line in `registry`.
struct KernelFamily: Sendable {
    /// How the family reads in `auto`'s reasons ("3 streaming convolutions: with …, without …").
    let name: String
    /// The `ConvolutionAlgorithm` values that force it (in the order `--convolutions` lists them).
    let forcedBy: [ConvolutionAlgorithm]
    /// Where `auto` weighs the family among the others (lowest first), and where a convolution tries it first.
    let rank: Int
    /// Whether `auto` weighs the family at this batch size.
    let weighedAt: @Sendable (_ batch: Int) -> Bool
    /// Whether a plan step's kernel belongs to the family.
    let owns: @Sendable (any ArenaKernel) -> Bool
    /// Lowers one convolution onto the family's kernel where the plan takes the family and the kernel applies; false
    /// leaves it to the next family, then to oneDNN. Nil for a family that lowers other planned ops (separable pairs).
    let lowers: (@Sendable (inout PlanBuilder, ConvolutionSite) throws -> Bool)?
    /// What plans count of it, in report order.
    let counts: [KernelCount]

    /// Every family, in the order `--convolutions` lists them and reports count them. A new family adds one line.
    static let registry: [KernelFamily] = [.winograd, .streaming, .streamingWide, .depthwise, .separable, .resizeConv]

    /// In the order `auto` weighs them and convolutions try them (`rank`).
    static let ranked = registry.sorted { $0.rank < $1.rank }

    /// The family of a plan step's own kernel, if any.
    static func of(_ kernel: any ArenaKernel) -> KernelFamily? { registry.first { $0.owns(kernel) } }
}

/// A convolution node a plan lowers, with what fuses into it.
struct ConvolutionSite {
    let node: Int
    let residual: ValueID?
    let activation: Op?
    /// The node standing for the fused result, and the planned step's index.
    let result: Int
    let step: Int
    let attributes: Conv2dAttributes
    /// Input `[N, C, H, W]`, weight `[K, C/g, kH, kW]`, output `[N, K, Ho, Wo]`.
    let input: [Int], weight: [Int], output: [Int]
}

/// A number plans report about a family: convolution steps whose implementation starts with `prefix`.
struct KernelCount: Sendable {
    /// Its name in `ConvolutionCounts` ("streaming").
    let name: String
    /// Its key in `bench infer --json` rows ("streaming_convolutions").
    let jsonKey: String
    let prefix: String
    let style: Style

    enum Style: Sendable {
        /// Always reported, out of all convolutions: "9/20 convolutions winograd" (`bench infer`: "convs").
        case headline
        /// Reported when not zero: `summary` in a plan's summary (nil: not there), `bench` in `bench infer`'s plan column.
        case whenAny(summary: (@Sendable (Int) -> String)?, bench: @Sendable (Int) -> String)
    }

    /// ", 3 streaming" in both.
    static func phrase(_ name: String, jsonKey: String, prefix: String) -> KernelCount {
        KernelCount(name: name, jsonKey: jsonKey, prefix: prefix, style: .whenAny(summary: { ", \($0) \(name)" }, bench: { ", \($0) \(name)" }))
    }
}
