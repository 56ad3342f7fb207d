import Foundation
import Synchronization
import Testing
import TestSupport

/// `.ownThread` keeps a test running while every thread of Swift's cooperative pool computes, as the live server
/// tests need in a full `swift test` on two cores.
@Suite("Tests on their own thread", .ownThread) struct OwnThreadTests {
    @Test func awaitsResumeWhileThePoolComputes() async throws {
        // Keep each of the pool's threads (one per core) busy for 3 s: spinning, as a computing test does (a thread
        // blocked in the kernel would be replaced by a new one).
        let width = ProcessInfo.processInfo.activeProcessorCount
        let started = Counter()
        let clock = ContinuousClock()
        for _ in 0..<width {
            Task.detached {
                started.value.add(1, ordering: .relaxed)
                let end = clock.now + .seconds(3)
                while clock.now < end {}
            }
        }
        #expect(ThreadTaskExecutor.isCurrent)
        while started.value.load(ordering: .relaxed) < width { await sleepOffThePool(for: .milliseconds(1)) }
        let elapsed = try await clock.measure {
            for _ in 0..<5 { await sleepOffThePool(for: .milliseconds(10)) }
            async let child = ThreadTaskExecutor.isCurrent
            #expect(await child, "a child task left the test's thread")
        }
        // Without the trait (or with `Task.sleep`) the first resumption waits for a pool thread: up to 3 s.
        #expect(elapsed < .seconds(2), "\(elapsed)")
        #expect(ThreadTaskExecutor.isCurrent)
    }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
