import Synchronization

/// One execution context per part of a plan (one per batch slice of a batch-split plan): everything a call writes.
final class PlanContext: @unchecked Sendable {
    let parts: [PartContext]

    /// `memory`: `memoryBytes(parts)` bytes, 64-byte aligned, for the parts' arenas and scratchpads one after another
    /// (`SharedPlanMemory`); nil for buffers of their own.
    init(_ parts: [PlanPart], memory: UnsafeMutableRawPointer? = nil) throws {
        var offset = 0
        self.parts = try parts.map { part in
            defer { offset += PartContext.memoryBytes(part) }
            return try PartContext(part, memory: memory.map { $0 + offset })
        }
    }

    static func memoryBytes(_ parts: [PlanPart]) -> Int { parts.reduce(0) { $0 + PartContext.memoryBytes($1) } }
}

/// The execution contexts of one plan, reused call after call: a call takes an idle context or makes one, and gives it
/// back after. The pool keeps as many as ever ran at once, up to `limit`; a caller beyond that gets a context that is
/// freed after its call (so memory grows with concurrency, never past `limit` idle contexts).
final class ContextPool: Sendable {
    let limit: Int
    private let idle: Mutex<[PlanContext]>
    private let made = Atomic<Int>(0)
    private let make: @Sendable () throws -> PlanContext

    /// `first`: a context made already (with the plan, so that its memory is the plan's planned bytes from the start).
    init(first: PlanContext, limit: Int, make: @escaping @Sendable () throws -> PlanContext) {
        (self.limit, self.make) = (max(1, limit), make)
        idle = Mutex([first])
        made.store(1, ordering: .relaxed)
    }

    /// Contexts made so far (tests check that serial calls share one).
    var contextsMade: Int { made.load(ordering: .relaxed) }

    /// Runs `body` with a context no other call is using.
    func withContext<R>(_ body: (PlanContext) throws -> R) throws -> R {
        let context: PlanContext
        if let c = idle.withLock({ $0.popLast() }) {
            context = c
        } else {
            context = try make()
            made.add(1, ordering: .relaxed)
        }
        defer { idle.withLock { if $0.count < limit { $0.append(context) } } }
        return try body(context)
    }
}
