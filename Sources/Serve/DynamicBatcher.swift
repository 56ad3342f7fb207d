import CPUBackend
import Foundation
import GraphCore
import Runtime

/// Queues the requests for one model and runs them together: a batch closes when it holds `maxBatch` images
/// or when its first request has waited `maxDelay`, whichever comes first. Batches run on a thread of their own
/// (the kernels block for milliseconds; Swift's cooperative threads and the HTTP event loops must not), padded
/// with zeros to the next precompiled batch size so that no request waits for a plan to compile.
public final class DynamicBatcher: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var maxBatch: Int
        public var maxDelay: Duration
        /// Images waiting beyond which requests are refused (503) instead of queued.
        public var maxQueue: Int
        public init(maxBatch: Int = 64, maxDelay: Duration = .microseconds(500), maxQueue: Int = 1024) {
            self.maxBatch = maxBatch; self.maxDelay = maxDelay; self.maxQueue = maxQueue
        }
    }

    /// What one request's wait and compute took, for the metrics.
    public struct Timing: Sendable {
        public var queue: Duration
        public var compute: Duration
        public var batchSize: Int
    }

    private struct Pending {
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
    private var queuedImages = 0
    /// Requests taken since the start, answered or not (tests wait on it to know their requests arrived).
    private var acceptedRequests = 0
    private var stopping = false
    private var worker: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// The kernels' thread count where the batcher was made: OpenMP keeps it per thread, so the batching
    /// thread sets it again for itself.
    private let threads: Int
    private let onBatch: @Sendable (Int) -> Void
    private let onQueueDepth: @Sendable (Int) -> Void

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
    /// thread count that will run them) before it takes requests; returns when they are compiled.
    public func start() async throws {
        try await withCheckedThrowingContinuation { (compiled: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                CPUDevice.threadCount = threads
                do {
                    for b in batchSizes { _ = try model.runtime.plan(batch: b) }
                } catch {
                    compiled.resume(throwing: error)
                    return
                }
                condition.lock()
                worker = Thread.current
                condition.unlock()
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

    var requestsAccepted: Int {
        condition.lock()
        defer { condition.unlock() }
        return acceptedRequests
    }

    /// Runs `input` (`[N] + sampleShape`) in the next batch with room; the model's output rows for it.
    public func infer(_ input: Tensor) async throws -> (output: Tensor, timing: Timing) {
        try await withCheckedThrowingContinuation { continuation in
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
        guard queuedImages + n <= configuration.maxQueue else {
            throw ServeError.overloaded(queued: queuedImages, limit: configuration.maxQueue)
        }
        let wasEmpty = head == pending.count
        pending.append(Pending(input: input, enqueued: .now, reply: reply))
        queuedImages += n
        acceptedRequests += 1
        onQueueDepth(queuedImages)
        // The batching thread waits for a first request, then for a full batch or the deadline: woken only for those,
        // not once per request while a batch fills (a futex wake and a context switch each).
        if wasEmpty || queuedImages >= configuration.maxBatch { condition.signal() }
    }

    /// Stops taking requests, answers every queued one, and returns when the batching thread has ended.
    public func drain() {
        condition.lock()
        let running = worker != nil && !stopping
        stopping = true
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
        var fits = pending[head].count
        for p in pending[(head + 1)...] {
            guard fits + p.count <= configuration.maxBatch else { break }
            fits += p.count
        }
        let target = Self.takenSize(fits, sizes: batchSizes)
        var batch = [pending[head]]
        var total = pending[head].count
        head += 1
        while head < pending.count, total + pending[head].count <= target {
            total += pending[head].count
            batch.append(pending[head])
            head += 1
        }
        queuedImages -= total
        if head > 256 && head * 2 > pending.count { pending.removeFirst(head); head = 0 }
        onQueueDepth(queuedImages)
        return batch
    }

    private func run(_ batch: [Pending]) {
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
