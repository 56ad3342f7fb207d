import Synchronization

/// The bytes of request bodies the server holds at once, each from before its first byte is read until its answer
/// is made. Every connection may send a body of up to the largest size accepted, so without a budget the memory
/// held grows with the number of clients uploading at once; beyond it, a request gets 503 with `Retry-After`, as
/// a full queue does.
final class RequestBodyBudget: Sendable {
    let limit: Int
    private let held = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Holds `bytes` if they fit beside what is held; false, holding nothing, if not.
    func reserve(_ bytes: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) { held.subtract(bytes, ordering: .acquiringAndReleasing) }

    /// Bytes held now.
    var bytesHeld: Int { held.load(ordering: .relaxed) }
}
