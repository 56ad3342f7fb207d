import CDNNL

/// A 3×3, stride-1, pad-1 convolution by Winograd's F(2×2, 3×3): 16 multiplies per 2×2 output tile
/// and channel pair instead of 36 (2.25× fewer), at the price of three passes over memory.
///
/// # Shapes and layouts
/// - input `[N, H, W, C]` and output `[N, H, W, K]`, NHWC float32; `C` and `K` multiples of 16.
/// - tiles: `T = N · ⌈H/2⌉ · ⌈W/2⌉`; tile `(n, i, j)` reads input rows `2i-1 … 2i+2`, columns `2j-1 … 2j+2`
///   (zeros outside) and writes output rows `2i, 2i+1`, columns `2j, 2j+1` (those inside).
/// - `V[16][Tc][C] = Bᵀ d B` per tile and channel; `U[16][C][K] = G g Gᵀ` (once, at init);
///   `M[16][Tc][K] = V · U` (oneDNN matmul with a batch of 16); `y = Aᵀ M A + bias (+ residual)`, ReLU.
///
/// Tiles go in chunks of `Tc`: `.chunked` gives each OpenMP thread whole chunks (transform, matmul on its
/// own stream, transform) so that `V` and `M` stay in its cache; `.whole` runs each pass over all tiles
/// on the whole team. F(2,3) adds only a few float32 roundings: outputs agree with the direct
/// convolution to ~1e-6 of the output's scale.
package final class WinogradConv3x3: @unchecked Sendable {
    package enum Schedule: Sendable, Equatable {
        /// Chunks of `tiles` tiles (nil: about 256 KiB of `V` per chunk), each on one thread.
        case chunked(tiles: Int?)
        /// One chunk of every tile; each pass spread over the team.
        case whole
    }

    package let batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
    package let tiles: Int, tilesPerChunk: Int, chunks: Int
    /// Threads with their own chunk buffers (1 for `.whole`).
    package let slots: Int
    package let schedule: Schedule
    /// Bytes of the caller-provided workspace (`V`, `M` and the matmul's scratchpad, per slot).
    package let workspaceBytes: Int
    package let matmul: Primitive
    /// `U` in the matmul's chosen layout.
    package let weights: AlignedBuffer
    /// `[K]`, owned by the caller (a plan's weight buffer), or nil.
    private let bias: UnsafePointer<Float>?
    private let relu: Bool
    private let vBytes: Int, mBytes: Int, slotBytes: Int
    private let streams: [dnnl_stream_t]
    /// Per slot: src (V), weights (U), dst (M), scratchpad.
    private var memories: [[dnnl_memory_t?]] = []
    private var args: [[dnnl_exec_arg_t]] = []
    private let descriptors: [MemoryDesc]

    /// Whether the Winograd path takes this convolution (3×3, stride 1, pad 1, no dilation or groups,
    /// channel counts multiples of 16); otherwise use the direct one.
    package static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        weight.count == 4 && weight[2] == 3 && weight[3] == 3 && a.stride == Pair(1) && a.padding == Pair(1) && a.dilation == Pair(1)
            && a.groups == 1 && input.count == 4 && input[1] % 16 == 0 && weight[0] % 16 == 0 && weight[1] == input[1]
    }

    /// - Parameters:
    ///   - weight: `[K, C, 3, 3]` row-major (PyTorch's OIHW).
    ///   - bias: `[K]`, read at every call: it must outlive this object.
    ///   - laidOut: where the transformed weights in the matmul's layout come from (a plan's shared cache);
    ///     by default `make()`.
    package init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, weight: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>?, relu: Bool, schedule: Schedule = .chunked(tiles: nil), ctx: DNNLContext,
                 laidOut: (const_dnnl_memory_desc_t, () throws -> AlignedBuffer) throws -> AlignedBuffer = { try $1() }) throws {
        guard inChannels % 16 == 0, outChannels % 16 == 0, batch > 0, height > 0, width > 0 else {
            throw EngineError.unsupported("winograd", "channels must be multiples of 16 and sizes positive; got N\(batch) C\(inChannels) K\(outChannels) \(height)×\(width)")
        }
        (self.batch, self.height, self.width, self.inChannels, self.outChannels) = (batch, height, width, inChannels, outChannels)
        self.schedule = schedule
        self.relu = relu
        self.bias = bias
        tiles = batch * ((height + 1) / 2) * ((width + 1) / 2)
        let team = Int(omp_get_max_threads())
        switch schedule {
        case .whole:
            tilesPerChunk = tiles
            slots = 1
        case .chunked(let n):
            let fit = max(8, 4096 / max(inChannels, outChannels))
            // Never fewer chunks than threads, when there are enough tiles.
            tilesPerChunk = max(1, min(n ?? fit, (tiles + team - 1) / team))
            slots = min(team, (tiles + tilesPerChunk - 1) / tilesPerChunk)
        }
        chunks = (tiles + tilesPerChunk - 1) / tilesPerChunk
        let (tc, c, k) = (tilesPerChunk, inChannels, outChannels)
        let src = try MemoryDesc(dims: [16, tc, c], tag: dnnl_abc), dst = try MemoryDesc(dims: [16, tc, k], tag: dnnl_abc)
        let wAny = try MemoryDesc(dims: [16, c, k], tag: dnnl_format_tag_any), wPlain = try MemoryDesc(dims: [16, c, k], tag: dnnl_abc)
        descriptors = [src, dst, wAny, wPlain]
        // A chunk's matmul runs on one thread: create (and tune) it for one.
        if case .chunked = schedule { omp_set_num_threads(1) }
        defer { omp_set_num_threads(Int32(team)) }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_matmul_primitive_desc_create(&pd, ctx.engine, src.handle, wAny.handle, nil, dst.handle, ctx.attributes),
                  "winograd matmul [16, \(tc), \(c)] × [16, \(c), \(k)]")
        matmul = try Primitive(pd: pd!, op: "winograd matmul")

        // U = G g Gᵀ, G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]], stored [16][C][K].
        var u = [Float](repeating: 0, count: 16 * c * k)
        u.withUnsafeMutableBufferPointer { u in
            for ko in 0..<k {
                for ci in 0..<c {
                    let g = weight + (ko * c + ci) * 9
                    // G g (4×3), by column.
                    var t = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                    for col in 0..<3 {
                        let (g0, g1, g2) = (g[col], g[3 + col], g[6 + col])
                        let v = SIMD4<Float>(g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                        if col == 0 { t.0 = v } else if col == 1 { t.1 = v } else { t.2 = v }
                    }
                    // (G g) Gᵀ: row `row` of the result from row `row` of G g.
                    let cols = [t.0, 0.5 * (t.0 + t.1 + t.2), 0.5 * (t.0 - t.1 + t.2), t.2]
                    for row in 0..<4 { for col in 0..<4 { u[((row * 4 + col) * c + ci) * k + ko] = cols[col][row] } }
                }
            }
        }
        let wMD = matmul.md(dnnl_query_weights_md)
        weights = try laidOut(wMD) {
            try u.withUnsafeMutableBytes { try ctx.reorder($0.baseAddress!, from: wPlain.handle, to: wMD, key: nil) }
        }

        vBytes = Self.aligned(16 * tc * c * 4)
        mBytes = Self.aligned(16 * tc * k * 4)
        slotBytes = vBytes + mBytes + Self.aligned(matmul.scratchpadBytes)
        workspaceBytes = slots * slotBytes
        var streams: [dnnl_stream_t] = []
        for _ in 0..<slots {
            var s: dnnl_stream_t?
            try check(dnnl_stream_create(&s, ctx.engine, dnnl_stream_default_flags.rawValue), "winograd stream")
            streams.append(s!)
        }
        self.streams = streams
        for _ in 0..<slots {
            var slot: [dnnl_memory_t?] = []
            var slotArgs: [dnnl_exec_arg_t] = []
            let mds: [(Int32, const_dnnl_memory_desc_t)] = [
                (DNNLArg.src, src.handle), (DNNLArg.weights, wMD), (DNNLArg.dst, dst.handle),
                (DNNLArg.scratchpad, matmul.md(dnnl_query_scratchpad_md))]
            for (arg, md) in mds {
                var m: dnnl_memory_t?
                try check(dnnl_memory_create(&m, md, ctx.engine, arg == DNNLArg.weights ? weights.pointer : nil), "winograd memory")
                slot.append(m)
                slotArgs.append(dnnl_exec_arg_t(arg: arg, memory: m))
            }
            memories.append(slot)
            args.append(slotArgs)
        }
    }

    deinit {
        for slot in memories { for m in slot { dnnl_memory_destroy(m) } }
        for s in streams { dnnl_stream_destroy(s) }
    }

    private static func aligned(_ n: Int) -> Int { (max(n, 1) + 63) & ~63 }

    private var workspace: UnsafeMutableRawPointer?

    /// Points the chunk buffers into `workspace` (`workspaceBytes`, 64-byte aligned), which must outlive the calls.
    package func bind(workspace: UnsafeMutableRawPointer) throws {
        self.workspace = workspace
        for s in 0..<slots {
            let base = workspace + s * slotBytes
            try check(dnnl_memory_set_data_handle(memories[s][0], base), "winograd V")
            try check(dnnl_memory_set_data_handle(memories[s][2], base + vBytes), "winograd M")
            try check(dnnl_memory_set_data_handle(memories[s][3], base + vBytes + mBytes), "winograd scratchpad")
        }
    }

    /// `output = relu?(conv(input) + bias + residual)`; `residual` (NHWC like the output) may be `output` itself.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) throws {
        guard let workspace else { throw EngineError.invalid("winograd", "run before bind(workspace:)") }
        let io = IO(input: input, output: output, residual: residual)
        switch schedule {
        case .whole:
            let v = (workspace).assumingMemoryBound(to: Float.self), m = (workspace + vBytes).assumingMemoryBound(to: Float.self)
            let grain = max(1, 4096 / inChannels)
            _ = OpenMPParallel.all(count: tiles, minimumPerThread: grain) { r in inputTransform(r, first: 0, io, v); return true }
            try check(dnnl_primitive_execute(matmul.primitive, streams[0], Int32(args[0].count), args[0]), "winograd matmul")
            try check(dnnl_stream_wait(streams[0]), "winograd matmul")
            _ = OpenMPParallel.all(count: tiles, minimumPerThread: max(1, 4096 / outChannels)) { r in outputTransform(r, first: 0, io, m); return true }
        case .chunked:
            let threads = min(slots, DNNLContext.threadCount, omp_in_parallel() != 0 ? 1 : slots)
            var failed = false
            if threads <= 1 {
                for c in 0..<chunks where !chunk(c, slot: 0, io) { failed = true; break }
            } else {
                failed = !OpenMPParallel.all(count: threads, minimumPerThread: 1) { r in
                    // Thread `slot` takes chunks slot, slot + threads, …
                    for slot in r { for c in stride(from: slot, to: chunks, by: threads) where !chunk(c, slot: slot, io) { return false } }
                    return true
                }
            }
            if failed { throw EngineError.backend("winograd", "matmul failed") }
        }
    }

    private struct IO {
        let input: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
        let residual: UnsafePointer<Float>?
    }

    private func chunk(_ c: Int, slot: Int, _ io: IO) -> Bool {
        let base = workspace! + slot * slotBytes
        let v = base.assumingMemoryBound(to: Float.self), m = (base + vBytes).assumingMemoryBound(to: Float.self)
        let first = c * tilesPerChunk, r = first..<min(tiles, first + tilesPerChunk)
        if r.count < tilesPerChunk {   // the last chunk's unused rows: zeros (their products are ignored)
            for e in 0..<16 { (v + (e * tilesPerChunk + r.count) * inChannels).update(repeating: 0, count: (tilesPerChunk - r.count) * inChannels) }
        }
        inputTransform(r, first: first, io, v)
        guard dnnl_primitive_execute(matmul.primitive, streams[slot], Int32(args[slot].count), args[slot]) == dnnl_success,
              dnnl_stream_wait(streams[slot]) == dnnl_success else { return false }
        outputTransform(r, first: first, io, m)
        return true
    }

    /// `V[e][t - first][c] = (Bᵀ d B)[e]`, Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
    private func inputTransform(_ r: Range<Int>, first: Int, _ io: IO, _ v: UnsafeMutablePointer<Float>) {
        let (h, w, c, tc) = (height, width, inChannels, tilesPerChunk)
        let (th, tw) = ((h + 1) / 2, (w + 1) / 2)
        let zero = SIMD16<Float>(repeating: 0)
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 32) { tmp in
            let d = tmp.baseAddress!, s = d + 16
            for t in r {
                let n = t / (th * tw), i = t / tw % th, j = t % tw
                let y0 = 2 * i - 1, x0 = 2 * j - 1
                let dst = v + (t - first) * c
                let inner = y0 >= 0 && y0 + 3 < h && x0 >= 0 && x0 + 3 < w
                for cb in stride(from: 0, to: c, by: 16) {
                    if !inner { for e in 0..<16 { d[e] = zero } }
                    for a in 0..<4 where y0 + a >= 0 && y0 + a < h {
                        let row = io.input + ((n * h + y0 + a) * w) * c + cb
                        for b in 0..<4 where x0 + b >= 0 && x0 + b < w {
                            d[a * 4 + b] = UnsafeRawPointer(row + (x0 + b) * c).loadUnaligned(as: SIMD16<Float>.self)
                        }
                    }
                    // Rows: Bᵀ d.
                    for b in 0..<4 {
                        let (d0, d1, d2, d3) = (d[b], d[4 + b], d[8 + b], d[12 + b])
                        s[b] = d0 - d2; s[4 + b] = d1 + d2; s[8 + b] = d2 - d1; s[12 + b] = d1 - d3
                    }
                    // Columns: (Bᵀ d) B.
                    for a in 0..<4 {
                        let (s0, s1, s2, s3) = (s[a * 4], s[a * 4 + 1], s[a * 4 + 2], s[a * 4 + 3])
                        let o = dst + a * 4 * tc * c + cb, step = tc * c
                        UnsafeMutableRawPointer(o).storeBytes(of: s0 - s2, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(o + step).storeBytes(of: s1 + s2, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(o + 2 * step).storeBytes(of: s2 - s1, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(o + 3 * step).storeBytes(of: s1 - s3, as: SIMD16<Float>.self)
                    }
                }
            }
        }
    }

    /// `y = Aᵀ M A` (Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]) + bias (+ residual), ReLU, into the output tile.
    private func outputTransform(_ r: Range<Int>, first: Int, _ io: IO, _ m: UnsafeMutablePointer<Float>) {
        let (h, w, k, tc) = (height, width, outChannels, tilesPerChunk)
        let (th, tw) = ((h + 1) / 2, (w + 1) / 2)
        let zero = SIMD16<Float>(repeating: 0)
        do {
            for t in r {
                let n = t / (th * tw), i = t / tw % th, j = t % tw
                let src = m + (t - first) * k, step = tc * k
                for kb in stride(from: 0, to: k, by: 16) {
                    @inline(__always) func load(_ e: Int) -> SIMD16<Float> {
                        UnsafeRawPointer(src + e * step + kb).loadUnaligned(as: SIMD16<Float>.self)
                    }
                    // Aᵀ M (2×4), then (Aᵀ M) A (2×2).
                    let c0 = load(0) + load(4) + load(8), c1 = load(1) + load(5) + load(9)
                    let c2 = load(2) + load(6) + load(10), c3 = load(3) + load(7) + load(11)
                    let e0 = load(4) - load(8) - load(12), e1 = load(5) - load(9) - load(13)
                    let e2 = load(6) - load(10) - load(14), e3 = load(7) - load(11) - load(15)
                    let beta = bias.map { UnsafeRawPointer($0 + kb).loadUnaligned(as: SIMD16<Float>.self) } ?? zero
                    @inline(__always) func put(_ a: Int, _ b: Int, _ value: SIMD16<Float>) {
                        guard 2 * i + a < h && 2 * j + b < w else { return }
                        let at = ((n * h + 2 * i + a) * w + 2 * j + b) * k + kb
                        var y = value + beta
                        if let res = io.residual { y += UnsafeRawPointer(res + at).loadUnaligned(as: SIMD16<Float>.self) }
                        if relu { y = y.replacing(with: zero, where: y .< zero) }
                        UnsafeMutableRawPointer(io.output + at).storeBytes(of: y, as: SIMD16<Float>.self)
                    }
                    put(0, 0, c0 + c1 + c2); put(0, 1, c1 - c2 - c3)
                    put(1, 0, e0 + e1 + e2); put(1, 1, e1 - e2 - e3)
                }
            }
        }
    }
}
