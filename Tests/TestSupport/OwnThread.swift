import Foundation
import Testing

/// Runs each test it marks on a thread of its own instead of Swift's cooperative pool. `swift test` runs every test
/// on that pool, which has one thread per core: on two cores, suites that compute for minutes hold both threads, and
/// a test that waits on a live server, a batching thread or a deadline is resumed only when one frees up (full runs
/// starved such tests for minutes). Under this trait the test's body and its child tasks run on a thread of their
/// own (a task executor preference), and what another thread resumes (a batch's answers, a socket's reads) resumes
/// there. Timers are the exception: poll with `sleepOffThePool`, not `Task.sleep`. Unstructured `Task {}`s, and
/// work a server sends to the global executor (`classify` decodes images there), still wait for the pool: a test
/// that sends such requests at once from its own thread times out where one on the pool would have waited its turn
/// before sending them, so the suites with `classify` requests do not take the trait.
public struct OwnThreadTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // A suite's scope is provided once for the suite and again for each test; only the tests need a thread.
        guard testCase != nil else { return try await function() }
        let executor = ThreadTaskExecutor()
        defer { executor.stop() }
        try await withTaskExecutorPreference(executor) { try await function() }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Each test on a thread of its own, off Swift's cooperative pool (`OwnThreadTrait`).
    public static var ownThread: Self { OwnThreadTrait() }
}

/// Waits for `duration` without Swift's cooperative pool. On Linux `Task.sleep`'s timer, like Dispatch's
/// `asyncAfter`, fires on that pool, so under `.ownThread` a test that polls with it would still wait for a pool
/// thread to free up; here a short-lived thread of its own sleeps and resumes the test.
public func sleepOffThePool(for duration: Duration) async {
    let (seconds, attoseconds) = duration.components
    let interval = Double(seconds) + Double(attoseconds) / 1e18
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread {
            Thread.sleep(forTimeInterval: interval)
            continuation.resume()
        }.start()
    }
}

/// A task executor with one thread, which runs the jobs enqueued to it in order until `stop()`.
public final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    // `jobs` and `stopped` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in run() }
        thread.threadDictionary[Self.marker] = true
        thread.start()
    }

    private static let marker = "pneumo.ThreadTaskExecutor"

    /// Whether the caller runs on the thread of some `ThreadTaskExecutor`.
    public static var isCurrent: Bool { Thread.current.threadDictionary[marker] != nil }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        let late = stopped
        if !late { jobs.append(job) }
        condition.signal()
        condition.unlock()
        if late { Thread { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }.start() }
    }

    /// Ends the thread once the jobs already enqueued have run. Later jobs (a straggling resumption of a task that
    /// outlives its test) still run, each on a short-lived thread of its own.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            let batch = jobs
            jobs.removeAll()
            let done = stopped && batch.isEmpty
            condition.unlock()
            if done { return }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
