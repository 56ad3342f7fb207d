import NIOCore
import Synchronization

/// Runs Swift tasks on one NIO event loop. A connection's handler task that prefers it parses, answers and writes on
/// the thread that reads and writes its socket, instead of hopping to Swift's global pool and back for every request.
/// Jobs enqueued from other threads (a batch's answers, resumed by the batching thread) are run together in one turn
/// of the loop: one wake-up of the loop per batch, not one per request.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop
    private let queued = Mutex<[UnownedJob]>([])

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let first = queued.withLock { jobs in
            jobs.append(job)
            return jobs.count == 1
        }
        if first { loop.execute { self.runQueued() } }
    }

    /// Runs what was queued when the turn began; jobs enqueued meanwhile schedule the next turn.
    private func runQueued() {
        let jobs = queued.withLock { jobs in
            defer { jobs.removeAll(keepingCapacity: true) }
            return Array(jobs)
        }
        for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
