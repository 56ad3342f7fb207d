import CDNNL
import CPUBackend
import Foundation
import GraphCore

/// What one call of a `PlanPart` needs for itself: the arena and scratchpad, oneDNN memory objects bound into them, a
/// stream, and each kernel of ours bound to the scratchpad. Made once and reused call after call; one call at a time.
final class PartContext: @unchecked Sendable {
    let part: PlanPart
    /// The arena and scratchpad: in `memory` where one was given (`SharedPlanMemory`), else in buffers of its own.
    private let arena: UnsafeMutableRawPointer
    private let scratch: UnsafeMutableRawPointer
    private let owned: [AlignedBuffer]
    /// Each step's oneDNN arguments (empty for a step of ours), and each step's kernel workspace (nil for oneDNN's).
    private let args: [[dnnl_exec_arg_t]]
    private let workspaces: [KernelWorkspace?]
    private let memories: [dnnl_memory_t?]
    private let userInput: dnnl_memory_t
    /// Its own stream: oneDNN streams must not be used by two threads at once.
    private let stream: dnnl_stream_t

    /// The bytes a part's arena and scratchpad take in memory given to `init(_:memory:)`, each 64-byte aligned.
    static func memoryBytes(_ part: PlanPart) -> Int { aligned(part.arenaBytes) + aligned(part.scratchBytes) }

    private static func aligned(_ bytes: Int) -> Int { (bytes + AlignedBuffer.alignment - 1) / AlignedBuffer.alignment * AlignedBuffer.alignment }

    /// `memory`: `memoryBytes(part)` bytes, 64-byte aligned, that only this context's calls use while it is in use; nil
    /// for buffers of its own.
    init(_ part: PlanPart, memory: UnsafeMutableRawPointer? = nil) throws {
        self.part = part
        let owned = memory == nil ? [AlignedBuffer(byteCount: part.arenaBytes), AlignedBuffer(byteCount: part.scratchBytes)] : []
        let arena = memory ?? owned[0].pointer, scratch = memory.map { $0 + Self.aligned(part.arenaBytes) } ?? owned[1].pointer
        let engine = part.ctx.engine
        var made: [dnnl_memory_t?] = []
        var input: dnnl_memory_t?, s: dnnl_stream_t?
        // Whatever was made is destroyed if a later creation fails.
        var done = false
        defer {
            if !done {
                for m in made { dnnl_memory_destroy(m) }
                if let input { dnnl_memory_destroy(input) }
                if let s { dnnl_stream_destroy(s) }
            }
        }
        try check(dnnl_memory_create(&input, part.userInputMD, engine, nil), "runtime input")
        try check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "runtime stream")
        var args: [[dnnl_exec_arg_t]] = [], workspaces: [KernelWorkspace?] = []
        for step in part.steps {
            workspaces.append(try step.custom.map { try $0.kernel.bind(workspace: scratch) })
            args.append(try step.args.map { a in
                let pointer: UnsafeMutableRawPointer
                switch a.location {
                case .userInput: return dnnl_exec_arg_t(arg: a.slot, memory: input)
                case .arena(let offset): pointer = arena + offset
                case .weight(let p): pointer = p
                case .scratch: pointer = scratch
                }
                var m: dnnl_memory_t?
                try check(dnnl_memory_create(&m, a.md, engine, pointer), step.name)
                made.append(m)
                return dnnl_exec_arg_t(arg: a.slot, memory: m)
            })
        }
        (self.arena, self.scratch, self.owned, self.args, self.workspaces, memories, userInput, stream) = (arena, scratch, owned, args, workspaces, made, input!, s!)
        done = true
    }

    deinit {
        for m in memories { dnnl_memory_destroy(m) }
        dnnl_memory_destroy(userInput)
        dnnl_stream_destroy(stream)
    }

    /// Runs on `part.rows.count` samples at `input` (row-major NCHW float32) and writes the row-major output
    /// to `output`; with `timings`, waits after each step and appends its nanoseconds.
    func execute(input: UnsafeMutableRawPointer, output: UnsafeMutableRawPointer, timings: UnsafeMutablePointer<[UInt64]>?) throws {
        try check(dnnl_memory_set_data_handle(userInput, input), "runtime input")
        let base = arena
        for (k, step) in part.steps.enumerated() {
            let t0 = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if let c = step.preCopy { (base + c.to).copyMemory(from: base + c.from, byteCount: c.bytes) }
            let team = step.singleThreaded ? omp_get_max_threads() : 0
            if step.singleThreaded { omp_set_num_threads(1) }
            defer { if step.singleThreaded { omp_set_num_threads(team) } }
            if let w = step.custom, let workspace = workspaces[k] {
                try w.kernel.run(input: UnsafePointer((base + w.input).assumingMemoryBound(to: Float.self)),
                                 output: (base + w.output).assumingMemoryBound(to: Float.self),
                                 residual: w.residual.map { UnsafePointer((base + $0).assumingMemoryBound(to: Float.self)) },
                                 workspace: workspace)
            } else if let p = step.primitive {
                try check(dnnl_primitive_execute(p.primitive, stream, Int32(args[k].count), args[k]), step.name)
            }
            if timings != nil {
                try check(dnnl_stream_wait(stream), step.name)
                timings!.pointee.append(DispatchTime.now().uptimeNanoseconds - t0)
            }
        }
        try check(dnnl_stream_wait(stream), "runtime")
        output.copyMemory(from: base + part.outputOffset, byteCount: part.outputShape.reduce(1, *) * MemoryLayout<Float>.size)
    }
}
