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

/// Winograd F(2×2, 3×3) against oneDNN's direct convolution on one 3×3 stride-1 pad-1 shape, NHWC
/// float32, bias fused in both, same thread count, alternating calls so both see the same machine load.
public enum WinogradConvBenchmark {
    public struct Result: Sendable, Encodable {
        public let direct_ms: Double
        public let winograd_ms: Double
        /// Direct time over Winograd time: above 1, Winograd is faster.
        public let speedup: Double
        public let direct_implementation: String
        public let matmul_implementation: String
        public let tiles: Int
        public let tiles_per_chunk: Int
        public let schedule: String
        /// max |winograd − direct| / max |direct|.
        public let max_relative_error: Double
    }

    /// `tilesPerChunk`: nil picks the chunk by cache size; 0 runs the `.whole` schedule. `cold`: before each
    /// timed call, overwrite 64 MiB so that weights and activations come from memory, as in a whole model
    /// whose weights do not fit the caches (at batch 1 this decides: Winograd's weights are 16/9 as large).
    public static func run(batch: Int, channels: Int, outChannels: Int? = nil, height: Int, width: Int, tilesPerChunk: Int?, runs: Int,
                           warmup: Int = 3, cold: Bool = false) throws -> Result {
        guard let ctx = DNNLContext.shared else { throw EngineError.backend("bench", "no oneDNN CPU engine") }
        let k = outChannels ?? channels
        let a = Conv2dAttributes(padding: Pair(1))
        var rng = SeededRandom(seed: 0)
        let x = Tensor.randomNormal([batch, channels, height, width], using: &rng).converted(to: .channelsLast)
        let w = Tensor.randomNormal([k, channels, 3, 3], std: 0.05, using: &rng)
        let bias = Tensor.randomNormal([k], std: 0.1, using: &rng)
        let backend = try DNNLBackend()
        let outShape = [batch, k, height, width]
        let d = try backend.convDescs(x.shape, w.shape, outShape, a, bias: true)
        let p = try Primitive(pd: try backend.convForwardPD(d, prop: dnnl_forward_inference, bias: true), op: "conv2d")
        let (wPtr, wBuf) = try backend.weights(w, groups: 1, for: p, dnnl_query_weights_md, key: "bench_wino_w")
        let direct = Tensor(uninitialized: outShape, layout: .channelsLast)
        let scratch = AlignedBuffer(byteCount: max(p.scratchpadBytes, 1))
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var execArgs: [dnnl_exec_arg_t] = []
        for (slot, md, ptr) in [(DNNLArg.src, p.md(dnnl_query_src_md), x.rawPointer), (DNNLArg.weights, p.md(dnnl_query_weights_md), wPtr),
                                (DNNLArg.dst, p.md(dnnl_query_dst_md), direct.rawPointer), (DNNLArg.bias, d.bias.handle, bias.rawPointer),
                                (DNNLArg.scratchpad, p.md(dnnl_query_scratchpad_md), scratch.pointer)] {
            var m: dnnl_memory_t?
            try check(dnnl_memory_create(&m, md, ctx.engine, ptr), "bench")
            memories.append(m)
            execArgs.append(dnnl_exec_arg_t(arg: slot, memory: m))
        }
        let wc = w.contiguous()
        let wino = try WinogradConv3x3(batch: batch, height: height, width: width, inChannels: channels, outChannels: k,
                                       weight: wc.rawPointer.assumingMemoryBound(to: Float.self),
                                       bias: bias.rawPointer.assumingMemoryBound(to: Float.self), relu: false,
                                       schedule: tilesPerChunk == 0 ? .whole : .chunked(tiles: tilesPerChunk), ctx: ctx)
        let workspace = AlignedBuffer(byteCount: wino.workspaceBytes)
        try wino.bind(workspace: workspace.pointer)
        let out = Tensor(uninitialized: outShape, layout: .channelsLast)
        let runDirect = {
            try check(dnnl_primitive_execute(p.primitive, ctx.stream, Int32(execArgs.count), execArgs), "bench")
            try check(dnnl_stream_wait(ctx.stream), "bench")
        }
        let runWino = {
            try wino.run(input: x.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                         residual: nil)
        }
        let evict = cold ? AlignedBuffer(byteCount: 64 << 20) : nil
        var fill: Int32 = 0
        func ms(_ body: () throws -> Void) rethrows -> Double {
            if let evict { fill += 1; memset(evict.pointer, fill & 0x7f, evict.byteCount) }
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        }
        try withFlushedDenormals {
            for _ in 0..<warmup { try runDirect(); try runWino() }
        }
        var td: [Double] = [], tw: [Double] = []
        try withFlushedDenormals {
            for _ in 0..<runs { td.append(try ms(runDirect)); tw.append(try ms(runWino)) }
        }
        var maxErr: Float = 0, maxRef: Float = 0
        let (o, r) = (out.rawPointer.assumingMemoryBound(to: Float.self), direct.rawPointer.assumingMemoryBound(to: Float.self))
        for i in 0..<out.count { maxErr = max(maxErr, abs(o[i] - r[i])); maxRef = max(maxRef, abs(r[i])) }
        withExtendedLifetime((wBuf, scratch, x, wc, bias, workspace)) {}
        let (dm, wm) = (td.sorted()[runs / 2], tw.sorted()[runs / 2])
        return Result(direct_ms: dm, winograd_ms: wm, speedup: dm / wm, direct_implementation: p.implementation,
                      matmul_implementation: wino.matmul.implementation, tiles: wino.tiles, tiles_per_chunk: wino.tilesPerChunk,
                      schedule: tilesPerChunk == 0 ? "whole" : "chunked", max_relative_error: Double(maxErr / max(maxRef, 1e-30)))
    }
}
