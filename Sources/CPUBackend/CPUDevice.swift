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

    /// BF16 needs AVX-512 BF16 or AMX (oneDNN would otherwise emulate it slowly), INT8 AVX-512 VNNI or AMX: without
    /// VNNI oneDNN's int8 kernels add pairs of u8·s8 products in saturating 16-bit arithmetic, and with AVX-VNNI alone
    /// they halve the weights of convolutions with signed inputs, so results change. Read from oneDNN's dispatch ISA,
    /// so that `ONEDNN_MAX_CPU_ISA` (how another machine's instruction set is tried here) counts.
    public func unsupportedReason(_ precision: Precision) -> String? {
        switch precision {
        case .fp32: nil
        case .bf16 where Self.isa & 0x80 != 0: nil   // dnnl_cpu_isa_avx512_core_bf16's own bit, set in every ISA above it
        case .bf16: "bf16 needs a CPU with AVX-512 BF16 or AMX; this one has neither"
        case .int8 where Self.isa & 0x40 != 0: nil   // dnnl_cpu_isa_avx512_core_vnni's own bit
        case .int8: "int8 needs a CPU with AVX-512 VNNI or AMX: without them oneDNN's int8 kernels saturate 16-bit sums (AVX2) or halve weights (AVX-VNNI), which changes results"
        }
    }

    /// Whether INT8 dot products run on VNNI instructions here (AVX-VNNI's or AVX-512 VNNI's bit of the ISA).
    public static var hasVNNI: Bool { isa & 0x8 != 0 || isa & 0x40 != 0 }

    /// oneDNN's dispatch ISA (`dnnl_cpu_isa_t`): read once, the CPU does not change under a running process.
    private static let isa: UInt32 = UInt32(dnnl_get_effective_cpu_isa().rawValue)
}
