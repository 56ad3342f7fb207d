import GraphCore
import CDNNL
import CKernels

/// The builds of our own C kernels (`Sources/CKernels`): each is compiled for AVX-512F and for AVX2 + FMA + F16C, and
/// the one to run is chosen at run time.
package enum KernelISA: String, Sendable, CaseIterable {
    case avx2, avx512

    var code: Int32 { self == .avx2 ? Int32(PNEUMO_ISA_AVX2) : Int32(PNEUMO_ISA_AVX512) }

    /// Whether this CPU runs this build.
    package var isSupported: Bool { pneumo_streaming_conv_isas() & code != 0 }

    /// The widest build this CPU runs that oneDNN would dispatch to too, so that `ONEDNN_MAX_CPU_ISA` (how
    /// another machine is tried here) picks ours as well; nil when neither.
    package static let best: KernelISA? = {
        let dnnl = UInt32(dnnl_get_effective_cpu_isa().rawValue)
        if KernelISA.avx512.isSupported && CPUDevice.hasAVX512 { return .avx512 }
        if KernelISA.avx2.isSupported && dnnl & 0x4 != 0 { return .avx2 }        // dnnl_cpu_isa_avx2's
        return nil
    }()
}
