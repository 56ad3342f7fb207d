import Foundation
import GraphCore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
@testable import Serve

/// Dynamic batching, backpressure, concurrency and shutdown.
@Suite("Serving: batching and concurrency", .ownThread) struct BatchingTests {
    @Test func queuedRequestsRunTogetherAndGetTheirOwnRows() async throws {
        let model = try servedPneumoNet()
        let sizes = Mutex<[Int]>([])
        let batcher = DynamicBatcher(model: model, configuration: .init(maxBatch: 8, maxDelay: .milliseconds(1), maxQueue: 16),
                                     onBatch: { n in sizes.withLock { $0.append(n) } })
        let inputs = (0..<3).map { testImages($0 + 1, seed: UInt64($0)) }   // 1 + 2 + 3 images
        // Queued before the batching thread starts: they must leave in one batch of 6.
        let results = try await withThrowingTaskGroup(of: (Int, Tensor).self) { group in
            for (k, x) in inputs.enumerated() { group.addTask { (k, try await batcher.infer(x).output) } }
            while batcher.requestsAccepted < 3 { await sleepOffThePool(for: .milliseconds(1)) }
            try await batcher.start()
            var out: [Int: Tensor] = [:]
            for try await (k, y) in group { out[k] = y }
            return out
        }
        batcher.drain()
        #expect(sizes.withLock { $0 } == [6])
        for (k, x) in inputs.enumerated() {
            let y = try #require(results[k])
            #expect(y.shape == [k + 1, 2])
            #expect(maxRelativeDifference(y.scalars, try model.runtime.run(x).scalars) <= 1e-5)
        }
    }

    /// The batching thread is woken by a first request and by a full batch, not by each request: a batch that fills
    /// leaves at once, however long its delay (the time limit catches a batch left waiting for its hour).
    @Test(.timeLimit(.minutes(1))) func aFullBatchLeavesBeforeItsDelay() async throws {
        let sizes = Mutex<[Int]>([])
        let batcher = DynamicBatcher(model: try servedPneumoNet(), configuration: .init(maxBatch: 4, maxDelay: .seconds(3600), maxQueue: 8),
                                     onBatch: { n in sizes.withLock { $0.append(n) } })
        try await batcher.start()
        async let first = batcher.infer(testImages(3, seed: 1))
        while batcher.requestsAccepted < 1 { await sleepOffThePool(for: .milliseconds(1)) }
        let second = try await batcher.infer(testImages(1, seed: 2))
        #expect(try await first.output.shape == [3, 2] && second.output.shape == [1, 2])
        #expect(sizes.withLock { $0 } == [4])
        // One image under the limit waits for its delay; draining answers it.
        // A child task (`async let`), which runs on the test's thread; a `Task {}` would wait for Swift's pool.
        async let waiting = batcher.infer(testImages(1, seed: 3))
        while batcher.requestsAccepted < 3 { await sleepOffThePool(for: .milliseconds(1)) }
        #expect(sizes.withLock { $0 } == [4])
        batcher.drain()
        #expect(try await waiting.output.shape == [1, 2])
        #expect(sizes.withLock { $0 } == [4, 1])
    }

    /// Queued before the batching thread starts, 11 images leave as 8 (no padding) and then the 3 left over.
    @Test func leftOverImagesLeadTheNextBatch() async throws {
        let model = try servedPneumoNet()
        let sizes = Mutex<[Int]>([])
        let batcher = DynamicBatcher(model: model, configuration: .init(maxBatch: 16, maxDelay: .milliseconds(1), maxQueue: 16),
                                     onBatch: { n in sizes.withLock { $0.append(n) } })
        let inputs = (0..<11).map { testImages(1, seed: UInt64(20 + $0)) }
        let results = try await withThrowingTaskGroup(of: (Int, Tensor).self) { group in
            for (k, x) in inputs.enumerated() { group.addTask { (k, try await batcher.infer(x).output) } }
            while batcher.requestsAccepted < 11 { await sleepOffThePool(for: .milliseconds(1)) }
            try await batcher.start()
            var out: [Int: Tensor] = [:]
            for try await (k, y) in group { out[k] = y }
            return out
        }
        batcher.drain()
        #expect(sizes.withLock { $0 } == [8, 3])
        for (k, x) in inputs.enumerated() {
            #expect(maxRelativeDifference(try #require(results[k]).scalars, try model.runtime.run(x).scalars) <= 1e-5)
        }
    }

    @Test func aFullQueueIsRefusedWithRetryAfter() async throws {
        let batcher = DynamicBatcher(model: try servedPneumoNet(), configuration: .init(maxBatch: 4, maxDelay: .milliseconds(1), maxQueue: 5))
        // Not started: 4 images wait, and a request of 2 more would pass the limit of 5. (Polled, not a fixed wait.)
        async let waiting = batcher.infer(testImages(4, seed: 1))
        while batcher.requestsAccepted < 1 { await sleepOffThePool(for: .milliseconds(1)) }
        await #expect(throws: ServeError.overloaded(queued: 4, limit: 5)) { try await batcher.infer(testImages(2, seed: 2)) }
        #expect(ServeError.overloaded(queued: 4, limit: 5).retryAfter == 1)
        let response = ErrorResponses<BasicRequestContext>.response(.overloaded(queued: 4, limit: 5))
        #expect(response.status == .serviceUnavailable && response.headers[.retryAfter] == "1")
        try await batcher.start()
        #expect(try await waiting.output.shape == [4, 2])
        batcher.drain()
        await #expect(throws: ServeError.shuttingDown) { try await batcher.infer(testImages(1, seed: 3)) }
    }

    /// Batches on the loops and on the batching thread, with one event loop and with two.
    @Test(arguments: [1, 2], [DynamicBatcher.Placement.eventLoops, .thread])
    func concurrentClientsGetTheSerialAnswers(eventLoops: Int, placement: DynamicBatcher.Placement) async throws {
        let model = try servedPneumoNet()
        let server = try testServer(models: [model], maxBatch: 8, maxDelay: .milliseconds(3), eventLoops: eventLoops, placement: placement)
        let requests = (0..<24).map { k in testImages(1 + k % 3, seed: UInt64(100 + k)) }
        let expected = try requests.map { try model.runtime.run($0).scalars }
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for (k, x) in requests.enumerated() {
                    group.addTask {
                        // A connection per client, as separate hospitals' systems would have.
                        let c = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20)))
                        c.connect()
                        defer { Task { try? await c.shutdown() } }
                        let r = try await c.execute(.init("/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders, body: inferBody(x)))
                        let answer = try JSONDecoder().decode(InferenceResponse.self, from: Data(buffer: r.body ?? ByteBuffer()))
                        return (k, answer.outputs[0].data ?? [])
                    }
                }
                for try await (k, y) in group {
                    #expect(maxRelativeDifference(y, expected[k]) <= 1e-4, "request \(k)")
                }
            }
            #expect(try #require(server.batchers["pneumonet"]).runsOnLoops == (placement == .eventLoops))
        }
    }

    /// With batches on the loops, a request made on a loop runs on that loop's thread, and one made elsewhere on the
    /// batching thread; every answer is the model's for its own images.
    @Test(.timeLimit(.minutes(1))) func batchesRunOnTheLoopThatReadTheirRequests() async throws {
        let model = try servedPneumoNet()
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = loops.next()
        let ranOnLoop = Mutex<[Bool]>([])
        let batcher = DynamicBatcher(model: model, configuration: .init(maxBatch: 8, maxDelay: .milliseconds(1), placement: .eventLoops),
                                     onBatch: { _ in ranOnLoop.withLock { $0.append(loop.inEventLoop) } })
        try await batcher.start()
        let inputs = (0..<6).map { testImages(1 + $0 % 3, seed: UInt64(40 + $0)) }
        let results = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop: loop)) {
            try await withThrowingTaskGroup(of: (Int, Tensor).self) { group in
                for (k, x) in inputs.enumerated() { group.addTask { (k, try await batcher.infer(x).output) } }
                var out: [Int: Tensor] = [:]
                for try await (k, y) in group { out[k] = y }
                return out
            }
        }
        #expect(!ranOnLoop.withLock { $0 }.isEmpty && ranOnLoop.withLock { $0 }.allSatisfy { $0 })
        for (k, x) in inputs.enumerated() {
            #expect(maxRelativeDifference(try #require(results[k]).scalars, try model.runtime.run(x).scalars) <= 1e-5)
        }
        ranOnLoop.withLock { $0 = [] }
        #expect(try await batcher.infer(testImages(2, seed: 50)).output.shape == [2, 2])
        #expect(ranOnLoop.withLock { $0 } == [false])
        // More than maxBatch images in one request: the batching thread, though the request comes from the loop.
        let large = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop: loop)) { try await batcher.infer(testImages(9, seed: 51)) }
        #expect(large.output.shape == [9, 2] && ranOnLoop.withLock { $0 } == [false, false])
        batcher.drain()
        #expect(!batcher.runsOnLoops)
        try await loops.shutdownGracefully()
    }

    /// `auto` puts a model on the loops when a full batch fits the budget on one thread, and says what it timed.
    @Test(arguments: [(Duration.milliseconds(10_000), true), (.zero, false)])
    func autoPlacementWeighsAFullBatchAgainstTheBudget(budget: Duration, onLoops: Bool) async throws {
        let batcher = DynamicBatcher(model: try servedPneumoNet(), configuration: .init(maxBatch: 8, loopBudget: budget))
        try await batcher.start()
        defer { batcher.drain() }
        #expect(batcher.runsOnLoops == onLoops)
        #expect(batcher.placementDecision.hasPrefix(onLoops ? "on the event loops: a batch of 8 takes" : "on the batching thread: a batch of 8"),
                "\(batcher.placementDecision)")
    }

    @Test func shutdownAnswersRequestsInFlight() async throws {
        // A long batching delay keeps the requests queued when the shutdown starts.
        let server = try testServer(maxBatch: 64, maxDelay: .milliseconds(300), placement: .thread)
        let port = Mutex<Int?>(nil)
        let group = ServiceGroup(configuration: .init(services: [server.application(onServerRunning: { channel in
            port.withLock { $0 = channel.localAddress?.port } })], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Int.self) { tasks in
            tasks.addTask { try await group.run(); return -1 }
            var p: Int?
            while p == nil { await sleepOffThePool(for: .milliseconds(10)); p = port.withLock { $0 } }
            for k in 0..<4 {
                tasks.addTask {
                    let c = TestClient(host: "127.0.0.1", port: p!, configuration: .init(timeout: .seconds(20)))
                    c.connect()
                    let r = try await c.execute(.init("/v2/models/pneumonet/infer", method: .post, headers: jsonHeaders,
                                                      body: inferBody(testImages(1, seed: UInt64(k)))))
                    try? await c.shutdown()
                    return Int(r.head.status.code)
                }
            }
            // Shut down once all four are queued: a fixed wait lost the race on a busy machine, when a client
            // connected after the listener had closed and waited for an answer that could not come.
            let batcher = try #require(server.batchers["pneumonet"])
            let deadline = ContinuousClock.now + .seconds(120)
            while batcher.requestsAccepted < 4 && ContinuousClock.now < deadline { await sleepOffThePool(for: .milliseconds(5)) }
            #expect(batcher.requestsAccepted == 4)
            await group.triggerGracefulShutdown()
            var statuses: [Int] = []
            for try await s in tasks { statuses.append(s) }
            #expect(statuses.sorted() == [-1, 200, 200, 200, 200])
        }
    }
}

/// A batch takes what fits in the largest size, cut to a compiled size; the first request always, however large.
@Test func batchLengthTakesWhatFitsCutToACompiledSize() {
    let sizes = DynamicBatcher.paddedSizes(maxBatch: 16)   // 1, 2, 4, 8, 16
    #expect(DynamicBatcher.batchLength([1, 1, 1], maxBatch: 16, sizes: sizes) == 3)      // ≤ 8 images: all (padded)
    #expect(DynamicBatcher.batchLength(Array(repeating: 1, count: 11), maxBatch: 16, sizes: sizes) == 8)   // cut to 8
    #expect(DynamicBatcher.batchLength([6, 6, 6], maxBatch: 16, sizes: sizes) == 1)      // 12 fit, cut to 8: only the first
    #expect(DynamicBatcher.batchLength([20, 1], maxBatch: 16, sizes: sizes) == 1)        // larger than maxBatch: alone
    #expect(DynamicBatcher.batchLength([8, 8, 1], maxBatch: 16, sizes: sizes) == 2)
}

@Test func paddedBatchSizesCoverEveryBatch() {
    #expect(DynamicBatcher.paddedSizes(maxBatch: 64) == [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64])
    #expect(DynamicBatcher.paddedSizes(maxBatch: 1) == [1])
    #expect(DynamicBatcher.paddedSizes(maxBatch: 3) == [1, 2, 3])
    #expect(DynamicBatcher.paddedSizes(maxBatch: 12) == [1, 2, 4, 8, 12])
}

@Test func batchesOverEightAreCutToACompiledSize() {
    let sizes = DynamicBatcher.paddedSizes(maxBatch: 64)
    #expect([1, 3, 5, 8].map { DynamicBatcher.takenSize($0, sizes: sizes) } == [1, 3, 5, 8])   // padded to 1, 4, 8, 8
    #expect([9, 15, 16, 33, 39, 40, 63, 64].map { DynamicBatcher.takenSize($0, sizes: sizes) } == [8, 8, 16, 32, 32, 40, 56, 64])
    #expect(DynamicBatcher.takenSize(11, sizes: DynamicBatcher.paddedSizes(maxBatch: 12)) == 8)
}
