import GraphCore
import Synchronization

/// The activation memory of a runtime's plans (one per batch size), shared among them. A call takes a slot, and the
/// slot's one buffer holds the arena and scratchpad of whichever plan runs on it. So a runtime keeps a buffer per call
/// that ran at once, the size of its largest plan, instead of one per plan: a server with plans for a dozen batch sizes
/// of the spec's baseline held about 3 GB of them (`bench/README.md`, "Plans share their memory").
final class SharedPlanMemory: Sendable {
    /// One call's memory, and a context bound into it for each plan that ran there. Only the call holding the slot
    /// touches it, hence unchecked.
    private final class Slot: @unchecked Sendable {
        var buffer: AlignedBuffer?
        /// By the plan's first part, which the context holds: its identifier cannot be reused while the context lives.
        var contexts: [ObjectIdentifier: PlanContext] = [:]
    }

    private let idle = Mutex<[Slot]>([])
    /// The bytes of the largest plan compiled so far: a slot takes that much at once, so that it does not grow through
    /// every batch size (each buffer it outgrows would stay in the `BufferPool`).
    private let largest = Atomic<Int>(0)
    /// Idle slots kept for the next calls: as many as calls ever ran at once, up to this; a call beyond them gets a slot
    /// freed after it.
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Counts in a plan compiled to use this memory.
    func reserve(_ parts: [PlanPart]) { largest.max(PlanContext.memoryBytes(parts), ordering: .relaxed) }

    /// Runs `body` with a context for `parts` in memory no other call is using; `made` is called when the context is new.
    func withContext<R>(_ parts: [PlanPart], made: () -> Void, _ body: (PlanContext) throws -> R) throws -> R {
        let slot = idle.withLock { $0.popLast() } ?? Slot()
        defer { idle.withLock { if $0.count < limit { $0.append(slot) } } }
        let key = ObjectIdentifier(parts[0])
        if let context = slot.contexts[key] { return try body(context) }
        if (slot.buffer?.byteCount ?? 0) < PlanContext.memoryBytes(parts) {
            // The contexts point into the old buffer: they go with it, before the larger one is taken.
            slot.contexts.removeAll()
            slot.buffer = nil
            slot.buffer = AlignedBuffer(byteCount: max(largest.load(ordering: .relaxed), PlanContext.memoryBytes(parts)))
        }
        let context = try PlanContext(parts, memory: slot.buffer!.pointer)
        slot.contexts[key] = context
        made()
        return try body(context)
    }

    /// Bytes of the idle slots' buffers (tests).
    var idleBytes: Int { idle.withLock { $0.reduce(0) { $0 + ($1.buffer?.byteCount ?? 0) } } }
}
