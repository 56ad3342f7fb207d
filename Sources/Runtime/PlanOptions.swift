import CPUBackend
import GraphCore

/// How the plan lays out 4-D activations.
public enum PlanLayout: String, Sendable, CaseIterable {
    /// NHWC everywhere (oneDNN's brgconv kernels).
    case channelsLast
    /// Whatever each convolution prefers (`format_tag_any`: blocked nChw16c/nChw8c), reordering where
    /// neighbours disagree.
    case blocked
}

/// What this machine's CPU runs (`CPUDevice` says why not). BF16's accuracy effect is measured, not assumed
/// (`pneumo bench infer --precision bf16` reports the output change against float32). Where INT8 is
/// unsupported, a quantized model runs in float32, which computes the same rounding.
extension Precision {
    public static func isSupported(_ p: Precision) -> Bool { unsupportedReason(p) == nil }

    /// A model's own precision: INT8 for a quantized model (`fakeQuantize` nodes) where the CPU runs INT8,
    /// float32 otherwise.
    public static func native(for graph: Graph) -> Precision {
        Int8Quantization.isQuantized(graph) && isSupported(.int8) ? .int8 : .fp32
    }

    public static var hasVNNI: Bool { CPUDevice.hasVNNI }

    /// Why `p` cannot run on this CPU (nil when it can).
    public static func unsupportedReason(_ p: Precision) -> String? {
        guard let cpu = CPUDevice.shared else { return p == .fp32 ? nil : "no oneDNN CPU engine" }
        return cpu.unsupportedReason(p)
    }
}

/// The op families the runtime reports time by (the spec's `operation_breakdown`).
public enum OpKind: String, Sendable, CaseIterable, Codable {
    case convolution, batchNorm = "batch_norm", activation, pooling, linear, resize, add
    /// Broadcast sums, differences, products and quotients (a squeeze-excitation's scale).
    case elementwise
    case softmax
    /// Means over axes other than a plane's (those are pooling).
    case reduction
    /// Transpose, pad and concat.
    case dataMovement = "data_movement"
    case layoutConversion = "layout_conversion"
    /// Rounding onto an int8 grid (`fake_quantize` steps that a convolution could not absorb).
    case quantize
}

/// How one call spreads over the OpenMP team (`CPUDevice.threadCount` threads).
public enum PlanParallelism: String, Sendable, CaseIterable, Codable {
    /// One plan over the whole batch; each primitive splits its own work over the team, with a fork/join
    /// and a barrier per primitive.
    case intraOp = "intra-op"
    /// The batch cut into one contiguous slice per thread (NCHW rows), each run by its own plan compiled
    /// for one thread, all inside one parallel region: one fork/join per call instead of one per primitive.
    /// The slices share the weights; each has its own arena, scratchpad and stream. Batch 1 runs intra-op.
    case batchSplit = "batch-split"
    /// The whole batch on the calling thread, with a plan compiled for one thread: no fork/join at all.
    case singleThread = "single-thread"
    /// Compile intra-op and the alternative (batch-split, or single-thread at batch 1), time both here on the
    /// same input, keep the faster (`InferencePlan.parallelismReason` gives the times). At batch 1 it also times
    /// each step both ways and tries an intra-op plan that runs on one thread the steps that were faster there.
    case auto

    /// Parses a command-line value, with an error that names the accepted ones.
    public init(option value: String) throws {
        guard let p = PlanParallelism(rawValue: value) else {
            throw EngineError.invalid("runtime", "parallelism must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
        }
        self = p
    }
}
