import GraphCore
import CDNNL
import Synchronization

/// Argument slots of `dnnl_primitive_execute` (the values of oneDNN's `DNNL_ARG_*` macros).
package enum DNNLArg {
    package static let src: Int32 = 1, src1: Int32 = 2, dst: Int32 = 17, weights: Int32 = 33, bias: Int32 = 41
    package static let mean: Int32 = 49, variance: Int32 = 50, scale: Int32 = 51, shift: Int32 = 52
    package static let workspace: Int32 = 64, scratchpad: Int32 = 80
    package static let diffSrc: Int32 = 129, diffDst: Int32 = 145, diffWeights: Int32 = 161, diffBias: Int32 = 169
    package static let diffScale: Int32 = 255, diffShift: Int32 = 256
    /// Runtime quantization scales of an argument: `attrScales | src` etc. (`DNNL_ARG_ATTR_SCALES`).
    package static let attrScales: Int32 = 4096
}

/// Throws a backend error naming `op` unless oneDNN reported success.
@inline(__always) package func check(_ status: dnnl_status_t, _ op: @autoclosure () -> String) throws {
    guard status == dnnl_success else { throw EngineError.backend(op(), "oneDNN call failed with status \(status.rawValue)") }
}

/// An owned oneDNN memory descriptor.
package final class MemoryDesc {
    package let handle: dnnl_memory_desc_t
    package init(handle: dnnl_memory_desc_t) { self.handle = handle }
    deinit { dnnl_memory_desc_destroy(handle) }

    /// A plain descriptor for a tensor: NCHW or NHWC for 4-D, row-major otherwise; `weightsGroups > 1`
    /// describes a grouped conv weight `[K, C/g, kH, kW]` as oneDNN's 5-D `[g, K/g, C/g, kH, kW]`.
    package convenience init(shape: [Int], layout: Layout, weightsGroups: Int = 1, dataType: dnnl_data_type_t = dnnl_f32) throws {
        var dims = shape
        if weightsGroups > 1 { dims = [weightsGroups, shape[0] / weightsGroups] + shape.dropFirst() }
        let tag: dnnl_format_tag_t = switch (dims.count, layout) {
        case (1, _): dnnl_a
        case (2, _): dnnl_ab
        case (3, _): dnnl_abc
        case (4, .channelsLast): dnnl_acdb
        case (4, _): dnnl_abcd
        case (5, _): dnnl_abcde
        case (6, _): dnnl_abcdef
        default: dnnl_format_tag_undef
        }
        try self.init(dims: dims, tag: tag, dataType: dataType)
    }

    /// `format_tag_any` lets the primitive choose (its preferred blocked weights layout).
    package convenience init(dims: [Int], tag: dnnl_format_tag_t, dataType: dnnl_data_type_t = dnnl_f32) throws {
        var h: dnnl_memory_desc_t?
        var d = DNNLDims(dims)
        try withUnsafePointer(to: &d.storage) { p in
            try p.withMemoryRebound(to: Int64.self, capacity: 12) { dp in
                try check(dnnl_memory_desc_create_with_tag(&h, Int32(dims.count), dp, dataType, tag), "memory descriptor \(dims)")
            }
        }
        self.init(handle: h!)
    }

    /// A copy of a descriptor a primitive reports (queried descriptors are owned by the primitive).
    package convenience init(cloning md: const_dnnl_memory_desc_t) throws {
        var h: dnnl_memory_desc_t?
        try check(dnnl_memory_desc_clone(&h, md), "memory descriptor clone")
        self.init(handle: h!)
    }

    package var byteSize: Int { dnnl_memory_desc_get_size(handle) }
    package func equals(_ other: const_dnnl_memory_desc_t) -> Bool { dnnl_memory_desc_equal(handle, other) != 0 }
}

/// oneDNN's fixed-size `dnnl_dims_t` (12 × int64) built from a Swift array.
package struct DNNLDims {
    var storage: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    package init(_ values: [Int]) {
        withUnsafeMutableBytes(of: &storage) { raw in
            let p = raw.bindMemory(to: Int64.self)
            for (i, v) in values.prefix(12).enumerated() { p[i] = Int64(v) }
        }
    }
    /// Calls `body` with a pointer oneDNN accepts as `const dnnl_dims_t`.
    package func withPointer<R>(_ body: (UnsafePointer<Int64>) throws -> R) rethrows -> R {
        var copy = storage
        return try withUnsafePointer(to: &copy) { try $0.withMemoryRebound(to: Int64.self, capacity: 12, body) }
    }
}

/// A created primitive with its descriptor; destroyed with the cache entry.
package final class Primitive: @unchecked Sendable {
    package let pd: dnnl_primitive_desc_t
    package let primitive: dnnl_primitive_t
    /// Implementation oneDNN chose (`brgconv:avx512_core`), for profiles and the closing note.
    package let implementation: String
    package let scratchpadBytes: Int

    package init(pd: dnnl_primitive_desc_t, op: String) throws {
        self.pd = pd
        var p: dnnl_primitive_t?
        try check(dnnl_primitive_create(&p, pd), op)
        primitive = p!
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        implementation = name.map { String(cString: $0) } ?? "?"
        scratchpadBytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0))
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    package func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> const_dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, index)!
    }
}

/// The CPU engine and stream, the primitive cache (keyed by op, shapes and layouts) and the thread count.
public final class DNNLContext: @unchecked Sendable {
    package let engine: dnnl_engine_t
    package let stream: dnnl_stream_t
    private let cache = Mutex<[String: Primitive]>([:])
    /// Attributes shared by every primitive: a user-provided scratchpad, so that the workspace oneDNN
    /// needs is allocated (and counted) by our allocator.
    package let attributes: dnnl_primitive_attr_t

    public static let shared: DNNLContext? = try? DNNLContext()

    private init() throws {
        var e: dnnl_engine_t?
        try check(dnnl_engine_create(&e, dnnl_cpu, 0), "oneDNN engine")
        engine = e!
        var s: dnnl_stream_t?
        try check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "oneDNN stream")
        stream = s!
        var a: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&a), "oneDNN attributes")
        attributes = a!
        try check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "oneDNN attributes")
        Self.flushDenormals()
    }

    /// Denormal floats (|x| < 1.2e-38) take a slow path on x86: late in training, when the learning rate
    /// has dropped, Adam's second moments and small gradients become denormal and epochs slow down by a
    /// third. Flushing them to zero (as `torch.set_flush_denormal(True)` does) changes values below 1e-38
    /// only. OpenMP's worker threads run only engine kernels and keep the mode; the calling thread gets
    /// it just while the engine works (`withFlushedDenormals`), so it never leaks into the caller's code.
    static func flushDenormals() {
        GOMP_parallel({ _ in if omp_get_thread_num() != 0 { _ = pneumo_flush_denormals() } }, nil, 0, 0)
    }

    /// Threads oneDNN's kernels use (OpenMP).
    public static var threadCount: Int {
        get { Int(omp_get_max_threads()) }
        set {
            omp_set_num_threads(Int32(max(1, newValue)))
            flushDenormals()   // a larger team has new threads
        }
    }

    /// The primitive cached under `key`, created by `make` (which returns a primitive descriptor) on first use.
    package func primitive(_ key: String, _ make: () throws -> dnnl_primitive_desc_t) throws -> Primitive {
        if let p = cache.withLock({ $0[key] }) { return p }
        let p = try Primitive(pd: make(), op: String(key.prefix { $0 != "|" }))
        cache.withLock { $0[key] = p }
        return p
    }

    /// Number of cached primitives (tests check that shapes are not recompiled).
    public var cachedPrimitiveCount: Int { cache.withLock { $0.count } }

    /// Implementation names of cached primitives, by key.
    public var implementations: [String: String] { cache.withLock { $0.mapValues(\.implementation) } }

    /// Executes `p` on the given (slot, descriptor, pointer) arguments and waits for it.
    package func execute(_ p: Primitive, _ args: [(Int32, const_dnnl_memory_desc_t, UnsafeMutableRawPointer)], op: String) throws {
        var memories: [dnnl_memory_t?] = []
        defer { for m in memories { dnnl_memory_destroy(m) } }
        var execArgs: [dnnl_exec_arg_t] = []
        let scratch = p.scratchpadBytes > 0 ? AlignedBuffer(byteCount: p.scratchpadBytes) : nil
        var all = args
        if let scratch { all.append((DNNLArg.scratchpad, p.md(dnnl_query_scratchpad_md), scratch.pointer)) }
        for (slot, md, ptr) in all {
            var m: dnnl_memory_t?
            try check(dnnl_memory_create(&m, md, engine, ptr), op)
            memories.append(m)
            execArgs.append(dnnl_exec_arg_t(arg: slot, memory: m))
        }
        try check(dnnl_primitive_execute(p.primitive, stream, Int32(execArgs.count), execArgs), op)
        try check(dnnl_stream_wait(stream), op)
        withExtendedLifetime(scratch) {}
    }

    /// Copies `src` (described by `from`) into a new buffer laid out as `to`; the reorder primitive is
    /// cached under `key` when one is given (the key must then determine both descriptors).
    package func reorder(_ src: UnsafeMutableRawPointer, from: const_dnnl_memory_desc_t, to: const_dnnl_memory_desc_t,
                 key: String?) throws -> AlignedBuffer {
        let make = { [self] () throws -> dnnl_primitive_desc_t in
            var pd: dnnl_primitive_desc_t?
            try check(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attributes), "reorder \(key ?? "")")
            return pd!
        }
        let p = try key.map { try primitive("reorder|" + $0, make) } ?? Primitive(pd: make(), op: "reorder")
        // A key that does not determine the descriptors would run a reorder made for others, past these buffers.
        if let key, dnnl_memory_desc_equal(p.md(dnnl_query_src_md), from) == 0 || dnnl_memory_desc_equal(p.md(dnnl_query_dst_md), to) == 0 {
            throw EngineError.invalid("reorder", "the reorder cached as '\(key)' was made for other descriptors than this call's")
        }
        let out = AlignedBuffer(byteCount: dnnl_memory_desc_get_size(to))
        try execute(p, [(DNNLArg.src, from, src), (DNNLArg.dst, to, out.pointer)], op: "reorder \(key ?? "")")
        return out
    }

    /// Quantizes `src` (float32, described by `from`) into a new buffer laid out as `to` (s8, possibly with
    /// the compensation an int8 convolution wants): `q = round(x / scales[i])` with one scale per index of
    /// the dimensions in `mask` (bit d set: one scale per index along dimension d).
    package func quantize(_ src: UnsafeMutableRawPointer, from: const_dnnl_memory_desc_t, to: const_dnnl_memory_desc_t,
                          scales: [Float], mask: Int32) throws -> AlignedBuffer {
        let attr = try attributes(scales: [(DNNLArg.dst, mask)])
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr), "quantize weights")
        let p = try Primitive(pd: pd!, op: "quantize weights")
        let out = AlignedBuffer(byteCount: dnnl_memory_desc_get_size(to))
        var scaleBuffer = scales
        let scaleMD = try MemoryDesc(dims: [scales.count], tag: dnnl_a)
        try scaleBuffer.withUnsafeMutableBytes { s in
            try execute(p, [(DNNLArg.src, from, src), (DNNLArg.dst, to, out.pointer),
                            (DNNLArg.attrScales | DNNLArg.dst, scaleMD.handle, s.baseAddress!)], op: "quantize weights")
        }
        return out
    }

    /// A new attribute set (user scratchpad plus runtime scales for each `(argument, mask)`); the caller destroys it.
    package func attributes(scales: [(arg: Int32, mask: Int32)]) throws -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_clone(&attr, attributes), "scales")
        for (arg, mask) in scales { try check(dnnl_primitive_attr_set_scales_mask(attr, arg, mask), "scales of argument \(arg)") }
        return attr!
    }
}

/// Runs `body` with denormals flushed to zero on the calling thread, restoring its float mode after. The
/// OpenMP workers this thread's parallel regions run on (libgomp keeps a team per calling thread) are told
/// to flush the first time this thread uses a team of that size.
@inline(__always) public func withFlushedDenormals<R>(_ body: () throws -> R) rethrows -> R {
    if omp_in_parallel() == 0, pneumo_team_needs_flush(omp_get_max_threads()) != 0 { DNNLContext.flushDenormals() }
    let previous = pneumo_flush_denormals()
    defer { pneumo_restore_float_mode(previous) }
    return try body()
}
