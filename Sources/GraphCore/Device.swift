/// Where graphs run: a backend's kernels, the threads they use, the float mode they compute in, and the
/// precisions its inference plans run. The CPU device lives in `CPUBackend`; `ReferenceDevice` here needs no C.
public protocol Device: Sendable {
    /// A short name for reports ("cpu", "reference").
    var name: String { get }
    var backend: any Backend { get }
    /// Threads one call's kernels may use.
    var threadCount: Int { get }
    var floatMode: FloatMode { get }
    /// Why the device cannot run inference plans in `precision` (nil when it can).
    func unsupportedReason(_ precision: Precision) -> String?
}

extension Device {
    public func supports(_ precision: Precision) -> Bool { unsupportedReason(precision) == nil }
    /// The precisions this device's plans run.
    public var precisions: [Precision] { Precision.allCases.filter(supports) }
}

/// How a device treats subnormal floats.
public enum FloatMode: String, Sendable, Codable {
    /// IEEE 754 arithmetic, subnormals included.
    case ieee
    /// Subnormal inputs and results read as zero (they are slow on x86 and carry no signal in a network).
    case flushDenormals = "flush-denormals"
}

/// Arithmetic of an inference plan. BF16 keeps activations and weights in bfloat16 (8-bit mantissa) with
/// float32 accumulation. FP16 rounds the (folded) weights to IEEE half and stores them as half wherever a kernel
/// converts them as it loads them, with float32 activations and arithmetic: half the bytes to read where reading the
/// weights bounds a convolution (batch 1). INT8 quantizes activations per tensor and weights per output channel, with int32
/// accumulation. Which of them a machine runs is its device's to say (`Device.unsupportedReason`).
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16, fp16, int8
}

/// The host interpreter as a device: `ReferenceBackend` on one thread, IEEE floats, float32 only. Slow and
/// obviously correct; every other device is tested against it.
public struct ReferenceDevice: Device {
    public init() {}
    public var name: String { "reference" }
    public var backend: any Backend { ReferenceBackend() }
    public var threadCount: Int { 1 }
    public var floatMode: FloatMode { .ieee }
    public func unsupportedReason(_ precision: Precision) -> String? {
        precision == .fp32 ? nil : "the reference device computes in float32 only"
    }
}
