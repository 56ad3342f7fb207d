import GraphCore
import CDNNL

/// The CPU: oneDNN's kernels and ours on an OpenMP team, denormals flushed. The thread count is process-wide
/// (OpenMP's), set once by whoever owns the process (the CLI's `--threads`).
public struct CPUDevice: Device {
    /// The CPU device; nil where the oneDNN engine could not be created.
    public static var shared: CPUDevice? { DNNLContext.shared == nil ? nil : CPUDevice() }

    private init() {}

    public var name: String { "cpu" }
    public var backend: any Backend { try! DNNLBackend() }   // the engine exists: `shared` checked it
    public var threadCount: Int { Self.threadCount }
    public var floatMode: FloatMode { .flushDenormals }

    /// Threads the CPU's kernels use (the OpenMP team).
    public static var threadCount: Int {
        get { DNNLContext.threadCount }
        set { DNNLContext.threadCount = newValue }
    }

    /// BF16 needs AVX-512 BF16 or AMX (oneDNN would otherwise emulate it slowly). FP16 needs our kernels' builds
    /// (`KernelISA.best`: AVX2 with F16C, or AVX-512F), which convert the half weights. INT8 runs wherever oneDNN has int8
    /// kernels (x86 from SSE4.1 on), with the weight range the CPU's dot products keep exact (`int8WeightRange`). Read
    /// from oneDNN's dispatch ISA, so that `ONEDNN_MAX_CPU_ISA` (how another machine's instruction set is tried here)
    /// counts.
    public func unsupportedReason(_ precision: Precision) -> String? {
        switch precision {
        case .fp32: nil
        case .bf16 where Self.isa & 0x80 != 0: nil   // dnnl_cpu_isa_avx512_core_bf16's own bit, set in every ISA above it
        case .bf16: "bf16 needs a CPU with AVX-512 BF16 or AMX; this one has neither"
        case .fp16 where KernelISA.best != nil: nil
        case .fp16: "fp16 needs a CPU whose kernels convert IEEE half as they load it (AVX2 with F16C, or AVX-512F); this one has neither"
        case .int8 where Self.isa & 0x1 != 0: nil    // dnnl_cpu_isa_sse41's bit, set in every x86 ISA oneDNN dispatches to
        case .int8: "int8 needs an x86 CPU with SSE4.1 or later (oneDNN's int8 kernels); this one has no int8 support"
        }
    }

    /// The weight range INT8 convolutions keep exact here: 8-bit with AVX-512 VNNI or AMX, 7-bit elsewhere. AVX-VNNI
    /// alone gets 7 bits too: oneDNN 3.2's sources run it on VNNI without halving weights, but no such CPU was at hand
    /// to confirm it, and 7-bit weights are exact either way.
    public static var int8WeightRange: Int8WeightRange { isa & 0x40 != 0 ? .full : .reduced }   // dnnl_cpu_isa_avx512_core_vnni's bit

    /// Why INT8 convolutions cannot use `range` here (nil when they can).
    public static func unsupportedReason(_ range: Int8WeightRange) -> String? {
        range == .full && int8WeightRange == .reduced
            ? "8-bit int8 weights need AVX-512 VNNI or AMX: with \(isaName) oneDNN adds u8·s8 pairs in saturating 16-bit sums; use 7-bit"
            : nil
    }

    /// Whether INT8 dot products run on VNNI instructions here (AVX-VNNI's or AVX-512 VNNI's bit of the ISA).
    public static var hasVNNI: Bool { isa & 0x8 != 0 || isa & 0x40 != 0 }

    /// Whether oneDNN dispatches AVX-512 kernels here (`dnnl_cpu_isa_avx512_core`'s own bit; not under
    /// `ONEDNN_MAX_CPU_ISA=AVX2`).
    public static var hasAVX512: Bool { isa & 0x20 != 0 }

    /// oneDNN's dispatch ISA in words ("AVX2", "AVX-512 VNNI"), for reports.
    public static var isaName: String {
        let names: [(UInt32, String)] = [(0x1fef, "AMX FP16"), (0xfef, "AMX"), (0x1ef, "AVX-512 FP16"), (0xe7, "AVX-512 BF16"),
                                         (0x67, "AVX-512 VNNI"), (0x27, "AVX-512"), (0x1f, "AVX2 VNNI 2"), (0xf, "AVX2 VNNI"),
                                         (0x7, "AVX2"), (0x3, "AVX"), (0x1, "SSE4.1")]
        return names.first { isa & $0.0 == $0.0 }?.1 ?? "no x86 ISA"
    }

    /// oneDNN's dispatch ISA (`dnnl_cpu_isa_t`): read once, the CPU does not change under a running process.
    private static let isa: UInt32 = UInt32(dnnl_get_effective_cpu_isa().rawValue)
}
