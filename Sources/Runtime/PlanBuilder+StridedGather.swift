import CDNNL
import CPUBackend
import GraphCore

extension PlanBuilder {
    /// oneDNN 3.2's int8 1×1 kernel for AVX2 and SSE4.1 (`jit_uni_int8_1x1`) runs a strided convolution of a channels-last
    /// source by first gathering the strided pixels into a per-thread workspace of `pixels × channels` bytes. It copies each
    /// pixel's channels in 16-byte pieces (8 with SSE4.1) and stores the last piece whole, so where the channels are not a
    /// multiple of 16 the last pixel's store runs into the next thread's workspace, and that thread's first pixel comes out
    /// wrong when the two overlap in time (`jit_uni_1x1_conv_utils.hpp`, `loop_is_nspc`, `load_store_tail_size`; still so
    /// upstream). Seen as one pixel of ResNet's stride-2 downsample (8 channels) changing between calls. Such a convolution
    /// takes oneDNN's next implementation instead.
    static func avoidStridedGatherOverrun(_ pd: dnnl_primitive_desc_t, inChannels: Int, _ a: Conv2dAttributes, what: String) throws {
        guard a.stride != Pair(1), inChannels % 16 != 0 else { return }
        while implementation(pd).hasPrefix("jit_uni_int8_1x1") {
            guard dnnl_primitive_desc_next_impl(pd) == dnnl_success else {
                throw EngineError.unsupported("runtime", "\(what): oneDNN has no int8 implementation here but jit_uni_int8_1x1, which races on strided sources of \(inChannels) channels")
            }
        }
    }

    static func implementation(_ pd: dnnl_primitive_desc_t) -> String {
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        return name.map { String(cString: $0) } ?? ""
    }
}
