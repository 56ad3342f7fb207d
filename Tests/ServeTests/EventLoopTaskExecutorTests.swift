import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import Serve

/// Connection tasks that prefer their event loop run there, also after the batching thread resumed them.
@Suite("Serving: tasks on the event loop", .ownThread) struct EventLoopTaskExecutorTests {
    @Test func tasksRunOnTheLoopBeforeAndAfterForeignResumes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop: loop)
        // As a batch answers its requests: 32 tasks suspended, then resumed one after another from a thread of our own.
        let waiting = Suspended()
        let results = try await withTaskExecutorPreference(executor) {
            try await withThrowingTaskGroup(of: (k: Int, answer: Int, before: Bool, after: Bool).self) { tasks in
                for k in 0..<32 {
                    tasks.addTask {
                        let before = loop.inEventLoop
                        let answer = await withCheckedContinuation { c in waiting.list.withLock { $0.append((k, c)) } }
                        return (k, answer, before, loop.inEventLoop)
                    }
                }
                while waiting.list.withLock({ $0.count }) < 32 { await sleepOffThePool(for: .milliseconds(1)) }
                Thread { for (k, c) in waiting.list.withLock({ $0 }) { c.resume(returning: k * k) } }.start()
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
        }
        // The control: without the preference, a task runs on Swift's global pool, not on the loop.
        #expect(await Task.detached { loop.inEventLoop }.value == false)
        #expect(results.count == 32)
        for r in results {
            #expect(r.answer == r.k * r.k)
            #expect(r.before && r.after, "task \(r.k) ran off the event loop (before the resume: \(r.before), after: \(r.after))")
        }
        try await group.shutdownGracefully()
    }

    /// The server builder `InferenceServer` uses: a handler runs on an event loop thread, and (the control) with
    /// Hummingbird's plain HTTP/1.1 builder it does not.
    @Test(arguments: [true, false]) func handlersRunOnTheirConnectionsLoop(onLoop: Bool) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let router = Router()
        router.get("/where") { _, _ in MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop" }
        let app = Application(router: router, server: onLoop ? .http1(onLoopsOf: group) : .http1(),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), eventLoopGroupProvider: .shared(group))
        try await app.test(.live) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/where", method: .get) { response in
                    #expect(String(buffer: response.body) == (onLoop ? "loop" : "pool"))
                }
            }
        }
        try await group.shutdownGracefully()
    }
}

/// The suspended tasks' continuations, by task index.
private final class Suspended: Sendable {
    let list = Mutex<[(Int, CheckedContinuation<Int, Never>)]>([])
}
