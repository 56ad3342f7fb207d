import GraphCore
import CDNNL
import CKernels

/// A 3×3, stride-1, pad-1 convolution by Winograd's F(m×m, 3×3), m = 2 or 4 (`Variant`): `(m+2)²` multiplies
/// per `m×m` output tile and channel pair instead of `9m²` (2.25× or 4× fewer), at the price of three passes
/// over memory.
///
/// # Shapes and layouts
/// - input `[N, H, W, C]` and output `[N, H, W, K]`, NHWC float32; `C` and `K` multiples of 16.
/// - tiles: `T = N · ⌈H/m⌉ · ⌈W/m⌉`; tile `(n, i, j)` reads input rows `mi-1 … mi+m`, columns `mj-1 … mj+m`
///   (zeros outside) and writes output rows `mi … mi+m-1`, columns `mj … mj+m-1` (those inside).
/// - `P = (m+2)²` planes: `V[P][Tc][C] = Bᵀ d B` per tile and channel; `U[P][C][K] = G g Gᵀ` (once, at init);
///   `M[P][Tc][K] = V · U` (`Products`: our AVX2 kernel or oneDNN's batched matmul); `y = Aᵀ M A + bias (+ residual)`,
///   ReLU.
///
/// Tiles go in chunks of `Tc`: `.chunked` gives each OpenMP thread whole chunks (transform, matmul on its
/// own stream, transform) so that `V` and `M` stay in its cache; `.whole` runs each pass over all tiles
/// on the whole team. The transforms are the variant's: our C build of them (`winograd_transforms.c`) at the CPU's vector
/// width where our kernels run (`KernelISA.best`, `transforms`), else the Swift code of `WinogradF2x2` and `WinogradF4x4` (Swift's
/// vectors are built for the baseline x86-64); all else is shared.
package final class WinogradConv3x3: @unchecked Sendable {
    package enum Schedule: Sendable, Equatable, Codable, CustomStringConvertible {
        /// Chunks of `tiles` tiles (nil: about 256 KiB of `V` per chunk), each on one thread.
        case chunked(tiles: Int?)
        /// One chunk of every tile; each pass spread over the team.
        case whole

        package var description: String {
            switch self {
            case .chunked(nil): "chunked"
            case .chunked(let n?): "chunked(\(n))"
            case .whole: "whole"
            }
        }
    }

    /// What computes the per-plane products `M = V · U`.
    package enum Products: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
        /// oneDNN's batched matmul (`U` in the layout it chooses).
        case onednn
        /// Our weight-streaming kernel's AVX2 build (`pneumo_streaming_conv_run`), each plane's product a 1×1 convolution
        /// over its tiles: `U` packed `[P][K/16][C][16]`, read in order and prefetched; passes of 6 tiles × 16 channels.
        case avx2

        /// Ours where our kernels run AVX2 (`KernelISA.best`): on batch 1's small products oneDNN's matmul gives back most
        /// of what Winograd saves (`bench/README.md`, "Winograd's products at batch 1"). oneDNN's elsewhere, for a forced
        /// Winograd; `auto` races both there (`raced`).
        package static var preferred: Products { KernelISA.best == .avx2 ? .avx2 : .onednn }

        /// What `auto` races per shape: ours alone where our kernels run AVX2 (measured faster there); both where they
        /// could run AVX-512, since on one such CPU our AVX2 build beat oneDNN's AVX-512 matmul on small maps and lost on
        /// large ones, and a race, not the ISA, should tell on another (`bench/README.md`, "Winograd's products on AVX-512").
        package static var raced: [Products] { preferred == .avx2 ? [.avx2] : allCases.filter(\.isSupported) }

        /// Whether this CPU runs it.
        package var isSupported: Bool { self == .onednn || KernelISA.avx2.isSupported }

        /// Why this CPU cannot run it, where it cannot.
        package var unsupportedReason: String? {
            isSupported ? nil : "the \(self) Winograd products need our kernels' AVX2 build (AVX2, FMA and F16C), which this CPU lacks"
        }

        package var description: String { rawValue }
    }

    /// A variant, a schedule and what computes the products: what a plan step runs and what `ConvolutionAlgorithm.auto`
    /// races.
    package struct Configuration: Sendable, Equatable, Codable, CustomStringConvertible {
        package var variant: Variant
        package var schedule: Schedule
        package var products: Products
        package init(_ variant: Variant, _ schedule: Schedule, products: Products = .preferred) {
            (self.variant, self.schedule, self.products) = (variant, schedule, products)
        }
        package var description: String { "\(variant) \(schedule), \(products) products" }
    }

    package let batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
    package let variant: Variant
    package let tiles: Int, tilesPerChunk: Int, chunks: Int
    /// Tiles per image column and row: `⌈H/m⌉`, `⌈W/m⌉`.
    private let tilesHigh: Int, tilesWide: Int
    /// Threads with their own chunk buffers (1 for `.whole`).
    package let slots: Int
    package let schedule: Schedule
    /// Bytes of the caller-provided workspace (`V`, `M` and the matmul's scratchpad, per slot).
    package let workspaceBytes: Int
    package let products: Products
    /// Which build of the tile transforms runs: our C one for this ISA, or nil for the Swift one (`WinogradTransforms`).
    package let transforms: KernelISA?
    /// oneDNN's matmul, with `products == .onednn`.
    package let matmul: Primitive?
    /// `U`: in the matmul's chosen layout, or packed `[P][K/16][C][16]` for our kernel.
    package let weights: AlignedBuffer
    /// `[K]`, owned by the caller (a plan's weight buffer), or nil.
    private let bias: UnsafePointer<Float>?
    private let relu: Bool
    private let vBytes: Int, mBytes: Int, slotBytes: Int
    /// Our products' pixel offsets: tile `t`'s row of `V`, `t · C` (at most `PNEUMO_STREAMING_AVX2_MAX_PIXELS` of them).
    private let tileOffsets: [Int64]
    /// The matmul's V and M descriptors, then the weights' (`any`, then plain); empty without a matmul.
    private let descriptors: [MemoryDesc]
    private let ctx: DNNLContext

    /// Whether the Winograd path takes this convolution (3×3, stride 1, pad 1, no dilation or groups,
    /// channel counts multiples of 16); otherwise use the direct one. The same for every variant.
    package static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        weight.count == 4 && weight[2] == 3 && weight[3] == 3 && a.stride == Pair(1) && a.padding == Pair(1) && a.dilation == Pair(1)
            && a.groups == 1 && input.count == 4 && input[1] % 16 == 0 && weight[0] % 16 == 0 && weight[1] == input[1]
    }

    /// - Parameters:
    ///   - weight: `[K, C, 3, 3]` row-major (PyTorch's OIHW).
    ///   - bias: `[K]`, read at every call: it must outlive this object.
    ///   - products: what computes `V · U` (by default `Products.preferred`).
    ///   - transforms: the C transforms' ISA, nil for the Swift ones (by default `KernelISA.best`; tests compare both).
    ///   - laidOut: where the transformed weights in the products' layout come from (a plan's shared cache): the
    ///     matmul's descriptor, or nil for our kernel's packing; by default `make()`.
    package init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, weight: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>?, relu: Bool, variant: Variant = .f2x2, schedule: Schedule = .chunked(tiles: nil),
                 products: Products = .preferred, transforms: KernelISA? = KernelISA.best, ctx: DNNLContext,
                 laidOut: (const_dnnl_memory_desc_t?, () throws -> AlignedBuffer) throws -> AlignedBuffer = { try $1() }) throws {
        guard inChannels % 16 == 0, outChannels % 16 == 0, batch > 0, height > 0, width > 0 else {
            throw EngineError.unsupported("winograd", "channels must be multiples of 16 and sizes positive; got N\(batch) C\(inChannels) K\(outChannels) \(height)×\(width)")
        }
        if let reason = products.unsupportedReason { throw EngineError.unsupported("winograd", reason) }
        (self.products, self.transforms) = (products, transforms)
        (self.batch, self.height, self.width, self.inChannels, self.outChannels) = (batch, height, width, inChannels, outChannels)
        (self.variant, self.schedule, self.relu, self.bias, self.ctx) = (variant, schedule, relu, bias, ctx)
        let m = variant.outputTile, planes = variant.planes
        (tilesHigh, tilesWide) = ((height + m - 1) / m, (width + m - 1) / m)
        tiles = batch * tilesHigh * tilesWide
        let team = Int(omp_get_max_threads())
        switch schedule {
        case .whole:
            tilesPerChunk = tiles
            slots = 1
        case .chunked(let n):
            // About 64 Ki floats (256 KiB) of V or M per chunk, and at least 8 tiles (the matmul's rows).
            let fit = max(8, (64 << 10) / (planes * max(inChannels, outChannels)))
            // Never fewer chunks than threads, when there are enough tiles.
            tilesPerChunk = max(1, min(n ?? fit, (tiles + team - 1) / team))
            slots = min(team, (tiles + tilesPerChunk - 1) / tilesPerChunk)
        }
        chunks = (tiles + tilesPerChunk - 1) / tilesPerChunk
        let (tc, c, k) = (tilesPerChunk, inChannels, outChannels)
        let transformed = { Self.transformedWeights(weight, inChannels: c, outChannels: k, g: variant == .f2x2 ? WinogradF2x2.g : WinogradF4x4.g) }
        switch products {
        case .avx2:
            (matmul, descriptors) = (nil, [])
            weights = try laidOut(nil) { Self.packedForStreaming(transformed(), planes: planes, inChannels: c, outChannels: k) }
        case .onednn:
            let src = try MemoryDesc(dims: [planes, tc, c], tag: dnnl_abc), dst = try MemoryDesc(dims: [planes, tc, k], tag: dnnl_abc)
            let wAny = try MemoryDesc(dims: [planes, c, k], tag: dnnl_format_tag_any), wPlain = try MemoryDesc(dims: [planes, c, k], tag: dnnl_abc)
            descriptors = [src, dst, wAny, wPlain]
            // A chunk's matmul runs on one thread: create (and tune) it for one.
            if case .chunked = schedule { omp_set_num_threads(1) }
            defer { omp_set_num_threads(Int32(team)) }
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_matmul_primitive_desc_create(&pd, ctx.engine, src.handle, wAny.handle, nil, dst.handle, ctx.attributes),
                      "winograd matmul [\(planes), \(tc), \(c)] × [\(planes), \(c), \(k)]")
            let matmul = try Primitive(pd: pd!, op: "winograd matmul")
            self.matmul = matmul
            let wMD = matmul.md(dnnl_query_weights_md)
            weights = try laidOut(wMD) {
                var u = transformed()
                return try u.withUnsafeMutableBytes { try ctx.reorder($0.baseAddress!, from: wPlain.handle, to: wMD, key: nil) }
            }
        }

        tileOffsets = products == .avx2 ? (0..<min(tc, Int(PNEUMO_STREAMING_AVX2_MAX_PIXELS))).map { Int64($0 * c) } : []
        vBytes = Self.aligned(planes * tc * c * 4)
        mBytes = Self.aligned(planes * tc * k * 4)
        slotBytes = vBytes + mBytes + (matmul.map { Self.aligned($0.scratchpadBytes) } ?? 0)
        workspaceBytes = slots * slotBytes
    }

    /// One execution context's matmul arguments, per slot: V, U, M and the scratchpad bound into its workspace, and a
    /// stream of its own (oneDNN streams must not be used by two threads at once); none for our products.
    final class Slots {
        let workspace: UnsafeMutableRawPointer
        fileprivate(set) var memories: [dnnl_memory_t?] = []
        fileprivate(set) var args: [[dnnl_exec_arg_t]] = []
        fileprivate(set) var streams: [dnnl_stream_t] = []

        init(workspace: UnsafeMutableRawPointer) { self.workspace = workspace }

        deinit {
            for m in memories { dnnl_memory_destroy(m) }
            for s in streams { dnnl_stream_destroy(s) }
        }
    }

    /// Points each slot's V, M and matmul scratchpad into `workspace` (`workspaceBytes`, 64-byte aligned).
    package func bind(workspace: UnsafeMutableRawPointer) throws -> KernelWorkspace {
        let bound = Slots(workspace: workspace)
        guard let matmul else { return KernelWorkspace(pointer: workspace, bound: bound) }
        for s in 0..<slots {
            var stream: dnnl_stream_t?
            try check(dnnl_stream_create(&stream, ctx.engine, dnnl_stream_default_flags.rawValue), "winograd stream")
            bound.streams.append(stream!)
            let base = workspace + s * slotBytes
            let mds: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
                (DNNLArg.src, descriptors[0].handle, base), (DNNLArg.weights, matmul.md(dnnl_query_weights_md), weights.pointer),
                (DNNLArg.dst, descriptors[1].handle, base + vBytes),
                (DNNLArg.scratchpad, matmul.md(dnnl_query_scratchpad_md), base + vBytes + mBytes)]
            var slotArgs: [dnnl_exec_arg_t] = []
            for (arg, md, pointer) in mds {
                var m: dnnl_memory_t?
                try check(dnnl_memory_create(&m, md, ctx.engine, pointer), "winograd memory")
                bound.memories.append(m)
                slotArgs.append(dnnl_exec_arg_t(arg: arg, memory: m))
            }
            bound.args.append(slotArgs)
        }
        return KernelWorkspace(pointer: workspace, bound: bound)
    }

    /// `U[e][C][K] = (G g Gᵀ)[e]` for `g = weight[k][c]` (`[K, C, 3, 3]`), computed in double and rounded once.
    static func transformedWeights(_ weight: UnsafePointer<Float>, inChannels c: Int, outChannels k: Int, g: [Double]) -> [Float] {
        let n = g.count / 3
        var u = [Float](repeating: 0, count: n * n * c * k)
        u.withUnsafeMutableBufferPointer { u in
            g.withUnsafeBufferPointer { g in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: n * 3) { gw in
                    for ci in 0..<c {
                        for ko in 0..<k {
                            let w = weight + (ko * c + ci) * 9
                            // G g (n×3), then (G g) Gᵀ (n×n).
                            for a in 0..<n {
                                for col in 0..<3 {
                                    gw[a * 3 + col] = g[a * 3] * Double(w[col]) + g[a * 3 + 1] * Double(w[3 + col]) + g[a * 3 + 2] * Double(w[6 + col])
                                }
                            }
                            for a in 0..<n {
                                for b in 0..<n {
                                    let x = gw[a * 3] * g[b * 3] + gw[a * 3 + 1] * g[b * 3 + 1] + gw[a * 3 + 2] * g[b * 3 + 2]
                                    u[((a * n + b) * c + ci) * k + ko] = Float(x)
                                }
                            }
                        }
                    }
                }
            }
        }
        return u
    }

    private static func aligned(_ n: Int) -> Int { (max(n, 1) + 63) & ~63 }

    /// `output = relu?(conv(input) + bias + residual)`; `residual` (NHWC like the output) may be `output` itself.
    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        guard let bound = workspace.bound as? Slots, bound.workspace == workspace.pointer else {
            throw EngineError.invalid("winograd", "run on a workspace this kernel did not bind (bind(workspace:))")
        }
        let io = IO(input: input, output: output, residual: residual, slots: bound)
        let workspace = workspace.pointer
        switch schedule {
        case .whole:
            let v = (workspace).assumingMemoryBound(to: Float.self), m = (workspace + vBytes).assumingMemoryBound(to: Float.self)
            let planes = variant.planes
            _ = OpenMPParallel.all(count: tiles, minimumPerThread: max(1, transformGrain / (planes * inChannels))) { r in
                inputTransform(r, first: 0, io, v)
                return true
            }
            if let matmul {
                try check(dnnl_primitive_execute(matmul.primitive, bound.streams[0], Int32(bound.args[0].count), bound.args[0]), "winograd matmul")
                try check(dnnl_stream_wait(bound.streams[0]), "winograd matmul")
            } else {
                _ = OpenMPParallel.all(count: planes * outChannels / 16, minimumPerThread: 1) { r in
                    streamedProducts(v: v, m: m, columns: r)
                    return true
                }
            }
            _ = OpenMPParallel.all(count: tiles, minimumPerThread: max(1, transformGrain / (planes * outChannels))) { r in
                outputTransform(r, first: 0, io, m)
                return true
            }
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

    /// The fewest floats of `V` or `M` a thread transforms in `.whole`: 64 Ki beside oneDNN's matmul; 8 Ki beside
    /// ours, whose `.whole` runs at batch 1, where a layer's transforms are a few tens of Ki floats in all and would
    /// otherwise fall to one thread.
    private var transformGrain: Int { matmul == nil ? 8 << 10 : 64 << 10 }

    private struct IO {
        let input: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
        let residual: UnsafePointer<Float>?
        let slots: Slots
    }

    private func chunk(_ c: Int, slot: Int, _ io: IO) -> Bool {
        let base = io.slots.workspace + slot * slotBytes
        let v = base.assumingMemoryBound(to: Float.self), m = (base + vBytes).assumingMemoryBound(to: Float.self)
        let first = c * tilesPerChunk, r = first..<min(tiles, first + tilesPerChunk)
        if r.count < tilesPerChunk {   // the last chunk's unused rows: zeros (their products are ignored)
            for e in 0..<variant.planes {
                (v + (e * tilesPerChunk + r.count) * inChannels).update(repeating: 0, count: (tilesPerChunk - r.count) * inChannels)
            }
        }
        inputTransform(r, first: first, io, v)
        if let matmul {
            let (stream, args) = (io.slots.streams[slot], io.slots.args[slot])
            guard dnnl_primitive_execute(matmul.primitive, stream, Int32(args.count), args) == dnnl_success,
                  dnnl_stream_wait(stream) == dnnl_success else { return false }
        } else {
            streamedProducts(v: v, m: m, columns: 0..<(variant.planes * outChannels / 16))
        }
        outputTransform(r, first: first, io, m)
        return true
    }

    /// `M = V · U` for the columns `columns` of `P · K/16` (column `j`: plane `j / (K/16)`, output channels from
    /// `16 · (j % (K/16))`) on the streaming kernel: plane `e`'s product is a 1×1 convolution whose pixels are the tiles
    /// (`V[e]`, `[Tc][C]`), weights `U[e]` and output `M[e]` (`[Tc][K]`), in slices of at most
    /// `PNEUMO_STREAMING_AVX2_MAX_PIXELS` tiles.
    private func streamedProducts(v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, columns: Range<Int>) {
        let (tc, c, k, blocks) = (tilesPerChunk, inChannels, outChannels, outChannels / 16)
        let slice = Int(PNEUMO_STREAMING_AVX2_MAX_PIXELS)
        let u = weights.pointer.assumingMemoryBound(to: Float.self)
        tileOffsets.withUnsafeBufferPointer { offsets in
            Self.centreTap.withUnsafeBufferPointer { tap in
                var j = columns.lowerBound
                while j < columns.upperBound {
                    let (e, first) = j.quotientAndRemainder(dividingBy: blocks)
                    let end = min(blocks, first + columns.upperBound - j)
                    for t0 in stride(from: 0, to: tc, by: slice) {
                        var conv = pneumo_streaming_conv(
                            isa: KernelISA.avx2.code, input: v + (e * tc + t0) * c, pixels: offsets.baseAddress, taps: tap.baseAddress,
                            pixelCount: Int64(min(slice, tc - t0)), tapCount: 1, channels: Int64(c),
                            weights: UnsafeRawPointer(u + e * c * k), weightType: Int32(PNEUMO_WEIGHTS_F32), bias: nil, residual: nil,
                            output: m + (e * tc + t0) * k, outChannels: Int64(k), relu: 0, prefetchBytes: Int64(StreamingConv.prefetchBytes))
                        pneumo_streaming_conv_run(&conv, Int64(first), Int64(end))
                    }
                    j += end - first
                }
            }
        }
    }

    /// The streaming kernel's one tap: the tile's own row of `V`.
    private static let centreTap: [Int64] = [0]

    /// Row-major `[P][C][K]` into the streaming kernel's weight groups, `[P][K/16][C][16]`.
    static func packedForStreaming(_ u: [Float], planes: Int, inChannels c: Int, outChannels k: Int) -> AlignedBuffer {
        let b = AlignedBuffer(byteCount: u.count * 4)
        let dst = b.pointer.assumingMemoryBound(to: Float.self)
        u.withUnsafeBufferPointer { u in
            for e in 0..<planes {
                for kb in 0..<(k / 16) {
                    for ci in 0..<c {
                        (dst + ((e * (k / 16) + kb) * c + ci) * 16).update(from: u.baseAddress! + (e * c + ci) * k + 16 * kb, count: 16)
                    }
                }
            }
        }
        return b
    }

    /// Image, tile row and tile column of tile `t`.
    @inline(__always) private func tile(_ t: Int) -> (n: Int, i: Int, j: Int) {
        (t / (tilesHigh * tilesWide), t / tilesWide % tilesHigh, t % tilesWide)
    }

    /// `V[e][t - first][c] = (Bᵀ d B)[e]` for the tiles `r`.
    private func inputTransform(_ r: Range<Int>, first: Int, _ io: IO, _ v: UnsafeMutablePointer<Float>) {
        // A switch, not an existential: each variant's transform specialized and inlined.
        switch variant {
        case .f2x2: WinogradF2x2.transformInput(io.input, height: height, width: width, channels: inChannels, tiles: r, first: first,
                                                planeStride: tilesPerChunk * inChannels, to: v, isa: transforms)
        case .f4x4: WinogradF4x4.transformInput(io.input, height: height, width: width, channels: inChannels, tiles: r, first: first,
                                                planeStride: tilesPerChunk * inChannels, to: v, isa: transforms)
        }
    }

    private func outputTransform(_ r: Range<Int>, first: Int, _ io: IO, _ m: UnsafeMutablePointer<Float>) {
        if let isa = transforms {   // our C build, at the CPU's vector width
            return pneumo_winograd_output(isa.code, Int32(variant.outputTile), m, Int64(tilesPerChunk * outChannels), Int64(height),
                                          Int64(width), Int64(outChannels), Int64(r.lowerBound), Int64(r.upperBound), Int64(first),
                                          bias, io.residual, relu ? 1 : 0, io.output)
        }
        switch variant {
        case .f2x2: outputTransform(WinogradF2x2.self, r, first: first, io, m)
        case .f4x4: outputTransform(WinogradF4x4.self, r, first: first, io, m)
        }
    }

    /// `y = Aᵀ M A` + bias (+ residual), ReLU, into the tiles `r` of the output (only the outputs inside the map).
    private func outputTransform<T: WinogradTransforms>(_: T.Type, _ r: Range<Int>, first: Int, _ io: IO, _ mm: UnsafeMutablePointer<Float>) {
        let (h, w, k) = (height, width, outChannels)
        let m = T.outputTile
        let planeStride = tilesPerChunk * k
        let zero = SIMD16<Float>(repeating: 0)
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: m * (m + 2)) { buffer in
            let scratch = buffer.baseAddress!
            for t in r {
                let (img, i, j) = tile(t)
                let rows = min(m, h - m * i), cols = min(m, w - m * j)
                let src = mm + (t - first) * k
                let origin = ((img * h + m * i) * w + m * j) * k
                for kb in stride(from: 0, to: k, by: 16) {
                    let beta = bias.map { T.load($0 + kb) } ?? zero
                    T.output(src + kb, planeStride: planeStride, scratch: scratch) { a, b, value in
                        guard a < rows && b < cols else { return }
                        let at = origin + (a * w + b) * k + kb
                        var y = value + beta
                        if let res = io.residual { y += T.load(res + at) }
                        if relu { y = y.replacing(with: zero, where: y .< zero) }
                        T.store(y, io.output + at)
                    }
                }
            }
        }
    }
}
