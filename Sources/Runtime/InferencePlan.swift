import CDNNL
import Engine
import Foundation
import Optimize

/// How the plan lays out 4-D activations.
public enum PlanLayout: String, Sendable, CaseIterable {
    /// NHWC everywhere (oneDNN's brgconv kernels).
    case channelsLast
    /// Whatever each convolution prefers (`format_tag_any`: blocked nChw16c/nChw8c), reordering where
    /// neighbours disagree.
    case blocked
}

/// Arithmetic of a plan. BF16 keeps activations and weights in bfloat16 (8-bit mantissa) with float32
/// accumulation, on CPUs with AVX-512 BF16 (or AMX); its accuracy effect is measured, not assumed
/// (`pneumo bench infer --precision bf16` reports the output change against float32).
///
/// INT8 quantizes activations per tensor (ranges from an `Int8Calibration`) and weights per output
/// channel, with int32 accumulation: AVX-512 VNNI (or AVX-VNNI) runs it natively; without VNNI oneDNN
/// still runs it, on slower AVX2/AVX-512 integer kernels.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16, int8

    /// Whether this CPU runs the precision natively (oneDNN would otherwise emulate BF16 slowly).
    public static func isSupported(_ p: Precision) -> Bool {
        guard p == .bf16 else { return true }
        return cpuFlags.contains("avx512_bf16") || cpuFlags.contains("amx_bf16")
    }

    /// A model's own precision: INT8 for a quantized model (`fakeQuantize` nodes), float32 otherwise.
    public static func native(for graph: Graph) -> Precision { Int8Quantization.isQuantized(graph) ? .int8 : .fp32 }

    /// Whether INT8 dot products run on VNNI instructions here.
    public static var hasVNNI: Bool { cpuFlags.contains("avx512_vnni") || cpuFlags.contains("avx_vnni") }

    private static var cpuFlags: String { (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "" }
}

/// The op families the runtime reports time by (the spec's `operation_breakdown`).
public enum OpKind: String, Sendable, CaseIterable, Codable {
    case convolution, batchNorm = "batch_norm", activation, pooling, linear, resize, add
    case layoutConversion = "layout_conversion"
    /// Rounding onto an int8 grid (`fake_quantize` steps that a convolution could not absorb).
    case quantize
}

/// A compiled model for one batch size: batch-norm folded into convolutions, conv + bias + residual add
/// + ReLU fused into single oneDNN primitives, weights reordered once into each primitive's layout,
/// and every intermediate tensor placed in one arena by liveness (no allocation per call).
///
/// Not safe to run from two threads at once (the arena is shared); `Runtime` serialises calls.
public final class InferencePlan: @unchecked Sendable {
    public let batch: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Bytes of the activation arena (peak of live intermediates), the weights and the scratchpad.
    public let arenaBytes: Int
    public let weightBytes: Int
    public let scratchpadBytes: Int
    public let precision: Precision
    public var plannedBytes: Int { arenaBytes + weightBytes + scratchpadBytes }

    struct Step {
        let primitive: Primitive
        var args: [dnnl_exec_arg_t]
        let kind: OpKind
        let name: String
        /// Copies the residual into the output block first when the fused add cannot run in place.
        var preCopy: (from: Int, to: Int, bytes: Int)?
    }

    private var steps: [Step]
    private let arena: AlignedBuffer
    private let scratch: AlignedBuffer
    private let weightBuffers: [AlignedBuffer]
    private let memories: [dnnl_memory_t?]
    private let userInput: dnnl_memory_t
    private let outputOffset: Int
    private let descriptors: [MemoryDesc]
    private let ctx: DNNLContext

    /// Implementations oneDNN chose per step (`brgconv:avx512_core`), for profiles.
    public let implementations: [(name: String, kind: OpKind, implementation: String)]

    deinit {
        for m in memories { dnnl_memory_destroy(m) }
        dnnl_memory_destroy(userInput)
    }

    /// Compiles `graph` (input `inputName`, first output = the result) for inputs of `inputShape`.
    /// `precision` defaults to the model's own (`Precision.native(for:)`). An INT8 plan of a float model
    /// needs `calibration` (measured on the same `graph`).
    public init(graph: Graph, parameters: ParameterStore, inputName: String = "image", inputShape: [Int],
                layout: PlanLayout = .channelsLast, fuse: Bool = true, precision: Precision? = nil,
                calibration: Int8Calibration? = nil) throws {
        let precision = precision ?? Precision.native(for: graph)
        guard let ctx = DNNLContext.shared else { throw EngineError.backend("runtime", "no oneDNN CPU engine") }
        guard Precision.isSupported(precision) else {
            throw EngineError.unsupported("runtime", "\(precision.rawValue) needs a CPU with AVX-512 BF16 or AMX; this one has neither")
        }
        self.precision = precision
        self.ctx = ctx
        let (g, p) = try InferenceRewrites.prepareForInference(graph, parameters)
        var builder = try PlanBuilder(graph: g, parameters: p, inputName: inputName, inputShape: inputShape, layout: layout,
                                      precision: precision, calibration: calibration, ctx: ctx)
        try builder.build(PlanLowering.lower(g, fuse: fuse))
        let compiled = try builder.finish()
        (steps, arena, scratch, weightBuffers, memories, userInput, outputOffset, descriptors) =
            (compiled.steps, compiled.arena, compiled.scratch, compiled.weights, compiled.memories, compiled.userInput,
             compiled.outputOffset, compiled.descriptors)
        batch = inputShape[0]
        self.inputShape = inputShape
        outputShape = compiled.outputShape
        arenaBytes = compiled.arena.byteCount
        weightBytes = compiled.weights.reduce(0) { $0 + $1.byteCount }
        scratchpadBytes = compiled.scratch.byteCount
        implementations = compiled.steps.map { ($0.name, $0.kind, $0.primitive.implementation) }
    }

    /// Runs the model on `input` (`inputShape`, any layout) and returns the output (row-major).
    public func run(_ input: Tensor) throws -> Tensor {
        try run(input, timings: nil)
    }

    /// Runs once, timing each step (ns): what the profiler's operation breakdown is made of.
    public func runProfiled(_ input: Tensor) throws -> (output: Tensor, steps: [(name: String, kind: OpKind, nanoseconds: UInt64)]) {
        var times: [UInt64] = []
        let out = try run(input, timings: &times)
        return (out, zip(steps, times).map { ($0.name, $0.kind, $1) })
    }

    private func run(_ input: Tensor, timings: UnsafeMutablePointer<[UInt64]>?) throws -> Tensor {
        try withFlushedDenormals { try execute(input, timings: timings) }
    }

    private func execute(_ input: Tensor, timings: UnsafeMutablePointer<[UInt64]>?) throws -> Tensor {
        guard input.shape == inputShape else {
            throw EngineError.shape("runtime", "the plan was compiled for input \(describe(inputShape)), got \(describe(input.shape))")
        }
        let x = input.contiguous()
        try check(dnnl_memory_set_data_handle(userInput, x.rawPointer), "runtime input")
        let base = arena.pointer
        for step in steps {
            let t0 = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if let c = step.preCopy { (base + c.to).copyMemory(from: base + c.from, byteCount: c.bytes) }
            try check(dnnl_primitive_execute(step.primitive.primitive, ctx.stream, Int32(step.args.count), step.args), step.name)
            if timings != nil {
                try check(dnnl_stream_wait(ctx.stream), step.name)
                timings!.pointee.append(DispatchTime.now().uptimeNanoseconds - t0)
            }
        }
        try check(dnnl_stream_wait(ctx.stream), "runtime")
        var out = Tensor(uninitialized: outputShape)
        out.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.update(from: (base + outputOffset).assumingMemoryBound(to: Float.self), count: dst.count)
        }
        withExtendedLifetime(x) {}
        return out
    }
}
