import CDNNL
import Foundation

/// Measures our overhead on a convolution: the same forward through `DNNLBackend.conv2d` (output
/// allocation, weight reorder and memory objects per call, as the executor does) against oneDNN alone
/// (primitive, weights and memory objects prepared once; only `execute` + `wait` timed).
public enum DNNLConvBenchmark {
    public struct Result: Sendable, Encodable {
        public let ours_ms: Double
        public let onednn_ms: Double
        /// oneDNN's time over ours: 1 means no overhead.
        public let speed_ratio: Double
        public let gflops_per_s: Double
        public let implementation: String
    }

    public static func run(x: Tensor, weight: Tensor, bias: Tensor?, _ a: Conv2dAttributes, runs: Int, warmup: Int = 3) throws -> Result {
        let backend = try DNNLBackend()
        let ctx = backend.ctx
        let outShape = try ShapeInference.infer(.conv2d(a), [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []), name: "")
        let src = x.converted(to: .channelsLast)
        func median(_ body: () throws -> Void) rethrows -> Double {
            for _ in 0..<warmup { try body() }
            var times: [Double] = []
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            return times.sorted()[times.count / 2]
        }
        let ours = try median { _ = try backend.conv2d(src, weight: weight, bias: bias, a) }

        // oneDNN alone: everything prepared outside the timed loop.
        let d = try backend.convDescs(x.shape, weight.shape, outShape, a, bias: bias != nil)
        let pd = try backend.convForwardPD(d, prop: dnnl_forward_inference, bias: bias != nil)
        let p = try Primitive(pd: pd, op: "conv2d")
        let (wPtr, wBuf) = try backend.weights(weight, groups: a.groups, for: p, dnnl_query_weights_md, key: "bench_w")
        let out = Tensor(uninitialized: outShape, layout: .channelsLast)
        let scratch = AlignedBuffer(byteCount: max(p.scratchpadBytes, 1))
        var args: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (DNNLArg.src, p.md(dnnl_query_src_md), src.rawPointer), (DNNLArg.weights, p.md(dnnl_query_weights_md), wPtr),
            (DNNLArg.dst, p.md(dnnl_query_dst_md), out.rawPointer), (DNNLArg.scratchpad, p.md(dnnl_query_scratchpad_md), scratch.pointer)]
        if let bias { args.append((DNNLArg.bias, d.bias.handle, bias.rawPointer)) }
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var execArgs: [dnnl_exec_arg_t] = []
        for (slot, md, ptr) in args {
            var m: dnnl_memory_t?
            try check(dnnl_memory_create(&m, md, ctx.engine, ptr), "bench")
            memories.append(m)
            execArgs.append(dnnl_exec_arg_t(arg: slot, memory: m))
        }
        let raw = try median {
            try check(dnnl_primitive_execute(p.primitive, ctx.stream, Int32(execArgs.count), execArgs), "bench")
            try check(dnnl_stream_wait(ctx.stream), "bench")
        }
        withExtendedLifetime((wBuf, out, scratch, src)) {}
        let macs = outShape.reduce(1, *) * weight.shape[1] * weight.shape[2] * weight.shape[3]
        return Result(ours_ms: ours, onednn_ms: raw, speed_ratio: raw / ours, gflops_per_s: 2 * Double(macs) / (ours / 1000) / 1e9,
                      implementation: p.implementation)
    }
}
