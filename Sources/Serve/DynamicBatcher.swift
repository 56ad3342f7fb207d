import CPUBackend
import Foundation
import GraphCore
import NIOPosix
import Runtime
import Synchronization

/// Queues the requests for one model and runs them together, on a thread of its own or on the event loops that read
/// them (`Placement`). On the thread, a batch closes when it holds `maxBatch` images or when its first request has
/// waited `maxDelay`, whichever comes first; on a loop, it holds what the loop read in one turn. Batches are padded
/// with zeros to the next precompiled batch size so that no request waits for a plan to compile.
public final class DynamicBatcher: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var maxBatch: Int
        public var maxDelay: Duration
        /// Images waiting beyond which requests are refused (503) instead of queued.
        public var maxQueue: Int
        public var placement: Placement
        /// The longest a full batch may take on one thread for `auto` to put batches on the loops: what a loop's other
        /// connections may wait for it.
        public var loopBudget: Duration
        public init(maxBatch: Int = 64, maxDelay: Duration = .microseconds(500), maxQueue: Int = 1024, placement: Placement = .auto,
                    loopBudget: Duration = .milliseconds(10)) {
            self.maxBatch = maxBatch; self.maxDelay = maxDelay; self.maxQueue = maxQueue; self.placement = placement
            self.loopBudget = loopBudget
        }
    }

    /// Where batches run.
    public enum Placement: String, Sendable, CaseIterable {
        /// On the event loop that read the requests, with one kernel thread: the loop runs what it read in a turn before
        /// it reads again, so a request never changes threads (`DynamicBatcher+EventLoops.swift`). For small models: the
        /// loop's other connections wait while it computes. Requests that come from elsewhere go to the thread.
        case eventLoops = "loops"
        /// On the batching thread, with the kernel threads `CPUDevice.threadCount` had where the batcher was made.
        case thread
        /// `eventLoops` where a full batch takes at most `Configuration.loopBudget` on one thread, else `thread`.
        case auto
    }

    /// What one request's wait and compute took, for the metrics.
    public struct Timing: Sendable {
        public var queue: Duration
        public var compute: Duration
        public var batchSize: Int
    }

    struct Pending {
        let input: Tensor
        let enqueued: ContinuousClock.Instant
        let reply: (Result<(output: Tensor, timing: Timing), any Error>) -> Void
        var count: Int { input.shape[0] }
    }

    public let model: ServedModel
    public let configuration: Configuration
    /// The batch sizes plans are compiled for (`paddedSizes`).
    public let batchSizes: [Int]
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var head = 0
    /// Images in the batching thread's queue.
    private var queuedImages = 0
    /// Images waiting in either place: the queue limit and the queue depth metric.
    let waitingImages = Atomic<Int>(0)
    /// Requests taken since the start, answered or not (tests wait on it to know their requests arrived).
    let acceptedRequests = Atomic<Int>(0)
    private var stopping = false
    /// Set once `start` has chosen the loops; cleared by `drain`.
    let batchesOnLoops = Atomic<Bool>(false)
    /// Where `start` put the batches, and why (for the server's log).
    public internal(set) var placementDecision = ""
    private var worker: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// The kernels' thread count where the batcher was made: OpenMP keeps it per thread, so the batching
    /// thread sets it again for itself.
    let threads: Int
    let onBatch: @Sendable (Int) -> Void
    let onQueueDepth: @Sendable (Int) -> Void
    /// Each event loop's requests not yet run (`DynamicBatcher+EventLoops.swift`).
    let loopQueues = LoopQueues()

    /// `onBatch` sees each batch's size (real images, before padding); `onQueueDepth` the images waiting after each change.
    public init(model: ServedModel, configuration: Configuration, onBatch: @escaping @Sendable (Int) -> Void = { _ in },
                onQueueDepth: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.model = model
        self.configuration = configuration
        batchSizes = Self.paddedSizes(maxBatch: configuration.maxBatch)
        self.onBatch = onBatch
        self.onQueueDepth = onQueueDepth
        threads = CPUDevice.threadCount
    }

    /// Starts the batching thread, which compiles the plans of every size in `batchSizes` (on the thread and
    /// thread count that will run them) and decides the placement before it takes requests; returns when they are
    /// compiled.
    public func start() async throws {
        try await withCheckedThrowingContinuation { (compiled: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                CPUDevice.threadCount = threads
                do {
                    for b in batchSizes { _ = try model.runtime.plan(batch: b) }
                    let onLoops = try decidePlacement()
                    // What compiling raced and freed is kept for reuse at sizes no batch asks for: give it back.
                    AlignedBuffer.releasePooledBlocks()
                    condition.lock()
                    worker = Thread.current
                    if !stopping { batchesOnLoops.store(onLoops, ordering: .releasing) }
                    condition.unlock()
                } catch {
                    compiled.resume(throwing: error)
                    return
                }
                compiled.resume()
                loop()
            }
            thread.name = "pneumo-batcher-\(model.name)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// 1, 2, 4, 8, then every multiple of 8 up to `maxBatch`, and `maxBatch`: a dozen plans compiled at start-up; a
    /// batch of more than 8 images is cut to one of them (`takenSize`), a smaller one pads at most 3 images.
    static func paddedSizes(maxBatch: Int) -> [Int] {
        let sizes = [1, 2, 4].filter { $0 < maxBatch } + stride(from: 8, to: maxBatch, by: 8)
        return sizes + [maxBatch]
    }

    /// How many of `waiting` images that fit in a batch to take: all of them up to 8 (padded), else the largest
    /// compiled size at most `waiting`, so that the kernels run no padding; the 1–7 left over lead the next batch,
    /// which under load forms while this one runs (`bench/README.md`, issue 20, has what was measured of it).
    static func takenSize(_ waiting: Int, sizes: [Int]) -> Int {
        guard waiting > 8 else { return waiting }
        return sizes.last { $0 <= waiting } ?? waiting
    }

    /// Whether the plans are compiled and requests are taken.
    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return worker != nil && !stopping
    }

    var requestsAccepted: Int { acceptedRequests.load(ordering: .relaxed) }

    /// Whether requests made on an event loop are batched there now (`Placement`).
    var runsOnLoops: Bool { batchesOnLoops.load(ordering: .acquiring) }

    /// Runs `input` (`[N] + sampleShape`) in the next batch with room; the model's output rows for it. A request of
    /// more than `maxBatch` images goes to the batching thread even with batches on the loops: it runs alone, at a
    /// size compiled when it comes, which a loop must not wait for.
    public func infer(_ input: Tensor) async throws -> (output: Tensor, timing: Timing) {
        if runsOnLoops, input.shape[0] <= configuration.maxBatch, let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            return try await inferOnLoop(input, loop)
        }
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try enqueue(input) { continuation.resume(with: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    private func enqueue(_ input: Tensor, reply: @escaping (Result<(output: Tensor, timing: Timing), any Error>) -> Void) throws {
        let n = input.shape[0]
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw ServeError.shuttingDown }
        try admit(n)
        let wasEmpty = head == pending.count
        pending.append(Pending(input: input, enqueued: .now, reply: reply))
        queuedImages += n
        // The batching thread waits for a first request, then for a full batch or the deadline: woken only for those,
        // not once per request while a batch fills (a futex wake and a context switch each).
        if wasEmpty || queuedImages >= configuration.maxBatch { condition.signal() }
    }

    /// Counts in a request of `n` images, or refuses it when the images waiting would pass `maxQueue`.
    func admit(_ n: Int) throws {
        let waiting = waitingImages.add(n, ordering: .relaxed).newValue
        guard waiting <= configuration.maxQueue else {
            waitingImages.subtract(n, ordering: .relaxed)
            throw ServeError.overloaded(queued: waiting - n, limit: configuration.maxQueue)
        }
        acceptedRequests.add(1, ordering: .relaxed)
        onQueueDepth(waiting)
    }

    /// Counts out `n` images that leave the queue for a batch.
    func dispatched(_ n: Int) { onQueueDepth(waitingImages.subtract(n, ordering: .relaxed).newValue) }

    /// Stops taking requests, answers every queued one, and returns when the batching thread has ended. Batches
    /// already on the loops run there, as their loops turn.
    public func drain() {
        condition.lock()
        let running = worker != nil && !stopping
        stopping = true
        batchesOnLoops.store(false, ordering: .releasing)
        condition.signal()
        condition.unlock()
        if running { finished.wait() }
    }

    private func loop() {
        while let batch = nextBatch() { run(batch) }
        finished.signal()
    }

    /// Waits for requests and for the batch to fill or its first request's delay to pass; nil once stopped and empty.
    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while head == pending.count && !stopping { condition.wait() }
        if head == pending.count { return nil }
        let deadline = pending[head].enqueued + configuration.maxDelay
        while queuedImages < configuration.maxBatch && !stopping {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { break }
            let (s, atto) = left.components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(s) + Double(atto) * 1e-18))
        }
        let length = Self.batchLength(pending[head...].lazy.map(\.count), maxBatch: configuration.maxBatch, sizes: batchSizes)
        let batch = Array(pending[head..<(head + length)])
        head += length
        let total = batch.reduce(0) { $0 + $1.count }
        queuedImages -= total
        if head > 256 && head * 2 > pending.count { pending.removeFirst(head); head = 0 }
        dispatched(total)
        return batch
    }

    /// How many of the waiting requests (their image counts, oldest first) the next batch takes: as many as fit in
    /// `maxBatch`, cut to a compiled size (`takenSize`); the first one always, however many images it holds.
    static func batchLength(_ counts: some Collection<Int>, maxBatch: Int, sizes: [Int]) -> Int {
        var (fits, n) = (0, 0)
        for c in counts {
            guard n == 0 || fits + c <= maxBatch else { break }
            (fits, n) = (fits + c, n + 1)
        }
        let target = takenSize(fits, sizes: sizes)
        var (total, k) = (0, 0)
        for c in counts.prefix(n) {
            guard k == 0 || total + c <= target else { break }
            (total, k) = (total + c, k + 1)
        }
        return k
    }

    func run(_ batch: [Pending]) {
        let start = ContinuousClock.now
        let total = batch.reduce(0) { $0 + $1.count }
        onBatch(total)
        do {
            let size = batchSizes.first { $0 >= total } ?? total   // a request larger than maxBatch runs alone, at its size
            let rowCount = model.sampleShape.reduce(1, *)
            var input = Tensor(zeros: [size] + model.sampleShape)
            input.withUnsafeMutableBufferPointer { dst in
                var offset = 0
                for p in batch {
                    p.input.contiguous().withUnsafeBufferPointer { src in
                        dst.baseAddress!.advanced(by: offset).update(from: src.baseAddress!, count: src.count)
                    }
                    offset += p.count * rowCount
                }
            }
            let output = try model.runtime.run(input)
            let compute = start.duration(to: .now)
            var row = 0
            for p in batch {
                let rows = output.rows(row..<(row + p.count))
                row += p.count
                p.reply(.success((rows, Timing(queue: p.enqueued.duration(to: start), compute: compute, batchSize: total))))
            }
        } catch {
            for p in batch { p.reply(.failure(error)) }
        }
    }
}
