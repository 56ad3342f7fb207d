import GraphCore
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
        // oneDNN's path through the backend (no training Winograd, which `bench conv --winograd` times).
        let ours = try median { _ = try backend.conv2d(src, weight: weight, bias: bias, a, fused: []) }

        // oneDNN alone: everything prepared outside the timed loop.
        let d = try backend.convDescs(x.shape, weight.shape, outShape, a, bias: bias != nil)
        let pd = try backend.convForwardPD(d, prop: dnnl_forward_inference, bias: bias != nil)
        let p = try Primitive(pd: pd, op: "conv2d")
        let (wPtr, wBuf) = try backend.weights(weight, groups: a.groups, for: p, dnnl_query_weights_md, key: nil)
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

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) against oneDNN's direct convolution on one 3×3 stride-1 pad-1 shape,
/// NHWC float32, bias fused in all, same thread count, alternating calls so all see the same machine load.
public enum WinogradConvBenchmark {
    public struct Result: Sendable, Encodable {
        public let direct_ms: Double
        public let winograd_ms: Double
        /// Direct time over Winograd time: above 1, Winograd is faster.
        public let speedup: Double
        public let direct_implementation: String
        /// What computed Winograd's products: `matmul:` and oneDNN's implementation, or `streaming_conv:avx2` (ours).
        public let matmul_implementation: String
        /// `f2x2` or `f4x4`: the output tile.
        public let variant: String
        public let tiles: Int
        public let tiles_per_chunk: Int
        public let schedule: String
        /// max |winograd − direct| / max |direct|.
        public let max_relative_error: Double
    }

    /// One row per output tile in `outputTiles` (2: F(2×2, 3×3), 4: F(4×4, 3×3)), timed in the same rounds as
    /// direct. `tilesPerChunk`: nil picks the chunk by cache size; 0 runs the `.whole` schedule. `cold`: before
    /// each timed call, overwrite 64 MiB (more than this CPU's L3) and then read the input, so that the weights
    /// come from memory and the input from cache, as in a whole model whose weights do not fit the caches (at
    /// batch 1 this decides: Winograd's weights are 16/9 (F(2×2)) or 36/9 (F(4×4)) as large as direct's).
    /// `products`: one row per output tile and products (`WinogradConv3x3.Products` by name), all in the same rounds; nil
    /// takes the runtime's (`Products.preferred`).
    public static func run(batch: Int, channels: Int, outChannels: Int? = nil, height: Int, width: Int, outputTiles: [Int] = [2],
                           products: [String]? = nil, tilesPerChunk: Int?, runs: Int, warmup: Int = 3, cold: Bool = false) throws -> [Result] {
        let schedule: WinogradConv3x3.Schedule = tilesPerChunk == 0 ? .whole : .chunked(tiles: tilesPerChunk)
        let variants = try outputTiles.map { m in
            guard let v = WinogradConv3x3.Variant.allCases.first(where: { $0.outputTile == m }) else {
                throw EngineError.invalid("bench", "Winograd output tiles are 2 or 4; got \(m)")
            }
            return v
        }
        let chosen = try (products ?? [WinogradConv3x3.Products.preferred.rawValue]).map { name in
            guard let p = WinogradConv3x3.Products(rawValue: name) else {
                throw EngineError.invalid("bench", "Winograd products are \(WinogradConv3x3.Products.allCases.map(\.rawValue).joined(separator: " or ")); got \(name)")
            }
            if let reason = p.unsupportedReason { throw EngineError.unsupported("bench", reason) }
            return p
        }
        let h = try Harness(batch: batch, channels: channels, outChannels: outChannels ?? channels, height: height, width: width,
                            configurations: variants.flatMap { v in chosen.map { WinogradConv3x3.Configuration(v, schedule, products: $0) } })
        let t = try h.medians(runs: runs, warmup: warmup, cold: cold)
        return h.winograd.indices.map { i in
            let wino = h.winograd[i]
            return Result(direct_ms: t[0], winograd_ms: t[1 + i], speedup: t[0] / t[1 + i], direct_implementation: h.direct.implementation,
                          matmul_implementation: wino.conv.productsImplementation, variant: wino.conv.variant.rawValue, tiles: wino.conv.tiles,
                          tiles_per_chunk: wino.conv.tilesPerChunk, schedule: tilesPerChunk == 0 ? "whole" : "chunked",
                          max_relative_error: h.maxRelativeError(i))
        }
    }

    /// Median milliseconds of direct and of each configuration, called in turn with caches evicted before each
    /// call; as many rounds as fit in about 0.2 s, 3 to 9, after one warm-up round. What
    /// `ConvolutionAlgorithm.auto` decides by. `errors`: each configuration's largest difference from direct's output,
    /// relative to its largest magnitude (a race of outputs that disagree says nothing about the plan's).
    package static func race(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int,
                             configurations: [WinogradConv3x3.Configuration]) throws -> (direct: Double, winograd: [Double], errors: [Double]) {
        let h = try Harness(batch: batch, channels: channels, outChannels: outChannels, height: height, width: width, configurations: configurations)
        let round = try h.medians(runs: 1, warmup: 1, cold: true).reduce(0, +)
        let t = try h.medians(runs: max(3, min(9, Int(200 / max(round, 1e-3)))), warmup: 0, cold: true)
        return (t[0], Array(t.dropFirst()), h.winograd.indices.map(h.maxRelativeError))
    }

    /// oneDNN's direct convolution (primitive, weights and memory prepared once) and Winograd convolutions
    /// of the same random input, weights and bias.
    private final class Harness {
        let ctx: DNNLContext
        let direct: Primitive
        let winograd: [(conv: WinogradConv3x3, workspace: AlignedBuffer, bound: KernelWorkspace, out: Tensor)]
        let directOut: Tensor
        /// Kept alive for the memory objects that point into them.
        private let directWeights: AlignedBuffer?, scratch: AlignedBuffer, bias: Tensor, descs: DNNLBackend.ConvDescs
        private let execArgs: [dnnl_exec_arg_t]
        private var memories: [dnnl_memory_t?] = []
        private let x: Tensor
        /// Keeps the reads that warm the input from being optimised away.
        private var sink: Float = 0

        /// One Winograd convolution per configuration.
        init(batch: Int, channels: Int, outChannels k: Int, height: Int, width: Int, configurations: [WinogradConv3x3.Configuration]) throws {
            guard let ctx = DNNLContext.shared else { throw EngineError.backend("bench", "no oneDNN CPU engine") }
            self.ctx = ctx
            let a = Conv2dAttributes(padding: Pair(1))
            var rng = SeededRandom(seed: 0)
            x = Tensor.randomNormal([batch, channels, height, width], using: &rng).converted(to: .channelsLast)
            let w = Tensor.randomNormal([k, channels, 3, 3], std: 0.05, using: &rng)
            let bias = Tensor.randomNormal([k], std: 0.1, using: &rng)
            let backend = try DNNLBackend()
            let outShape = [batch, k, height, width]
            let d = try backend.convDescs(x.shape, w.shape, outShape, a, bias: true)
            direct = try Primitive(pd: try backend.convForwardPD(d, prop: dnnl_forward_inference, bias: true), op: "conv2d")
            let (wPtr, wBuf) = try backend.weights(w, groups: 1, for: direct, dnnl_query_weights_md, key: nil)
            directOut = Tensor(uninitialized: outShape, layout: .channelsLast)
            let scratch = AlignedBuffer(byteCount: max(direct.scratchpadBytes, 1))
            var args: [dnnl_exec_arg_t] = []
            for (slot, md, ptr) in [(DNNLArg.src, direct.md(dnnl_query_src_md), x.rawPointer), (DNNLArg.weights, direct.md(dnnl_query_weights_md), wPtr),
                                    (DNNLArg.dst, direct.md(dnnl_query_dst_md), directOut.rawPointer), (DNNLArg.bias, d.bias.handle, bias.rawPointer),
                                    (DNNLArg.scratchpad, direct.md(dnnl_query_scratchpad_md), scratch.pointer)] {
                var m: dnnl_memory_t?
                try check(dnnl_memory_create(&m, md, ctx.engine, ptr), "bench")
                memories.append(m)
                args.append(dnnl_exec_arg_t(arg: slot, memory: m))
            }
            execArgs = args
            let wc = w.contiguous()
            winograd = try configurations.map { configuration in
                let conv = try WinogradConv3x3(batch: batch, height: height, width: width, inChannels: channels, outChannels: k,
                                               weight: wc.rawPointer.assumingMemoryBound(to: Float.self),
                                               bias: bias.rawPointer.assumingMemoryBound(to: Float.self), relu: false,
                                               variant: configuration.variant, schedule: configuration.schedule, products: configuration.products, ctx: ctx)
                let workspace = AlignedBuffer(byteCount: conv.workspaceBytes)
                let bound = try conv.bind(workspace: workspace.pointer)
                return (conv, workspace, bound, Tensor(uninitialized: outShape, layout: .channelsLast))
            }
            (directWeights, self.scratch, self.bias, descs) = (wBuf, scratch, bias, d)
        }

        deinit { for m in memories { dnnl_memory_destroy(m) } }

        func runDirect() throws {
            try check(dnnl_primitive_execute(direct.primitive, ctx.stream, Int32(execArgs.count), execArgs), "bench")
            try check(dnnl_stream_wait(ctx.stream), "bench")
        }

        func runWinograd(_ i: Int) throws {
            try winograd[i].conv.run(input: x.rawPointer.assumingMemoryBound(to: Float.self),
                                     output: winograd[i].out.rawPointer.assumingMemoryBound(to: Float.self), residual: nil,
                                     workspace: winograd[i].bound)
        }

        /// Medians (ms) of direct, then each Winograd configuration, called in turn.
        func medians(runs: Int, warmup: Int, cold: Bool) throws -> [Double] {
            let evict = cold ? AlignedBuffer(byteCount: 64 << 20) : nil
            var fill: Int32 = 0
            func ms(_ body: () throws -> Void) rethrows -> Double {
                if let evict {
                    // On the OpenMP team, as a model's previous step would be: its workers are awake for the call.
                    fill += 1
                    let value = fill & 0x7f
                    _ = OpenMPParallel.all(count: evict.byteCount, minimumPerThread: 1 << 20) { r in
                        memset(evict.pointer + r.lowerBound, value, r.count)
                        return true
                    }
                    // The input comes from the previous step, so it is as cached as it can be; the weights are not.
                    let p = UnsafeRawPointer(x.rawPointer)
                    var sum = SIMD16<Float>()
                    for i in stride(from: 0, to: x.count - 15, by: 16) { sum += p.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) }
                    sink = sum.sum()
                }
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            }
            let bodies: [() throws -> Void] = [runDirect] + winograd.indices.map { i in { try self.runWinograd(i) } }
            var times = [[Double]](repeating: [], count: bodies.count)
            try withFlushedDenormals {
                for _ in 0..<warmup { for b in bodies { try b() } }
                for _ in 0..<runs { for (k, b) in bodies.enumerated() { times[k].append(try ms(b)) } }
            }
            return times.map { $0.sorted()[$0.count / 2] }
        }

        func maxRelativeError(_ i: Int) -> Double {
            var maxErr: Float = 0, maxRef: Float = 0
            let (o, r) = (winograd[i].out.rawPointer.assumingMemoryBound(to: Float.self), directOut.rawPointer.assumingMemoryBound(to: Float.self))
            for j in 0..<directOut.count { maxErr = max(maxErr, abs(o[j] - r[j])); maxRef = max(maxRef, abs(r[j])) }
            return Double(maxErr / max(maxRef, 1e-30))
        }
    }
}
