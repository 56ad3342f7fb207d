import CPUBackend
import Foundation
import GraphCore
import NIOCore
import NIOPosix

/// Batches on the event loops (`Placement.eventLoops`): a request read on a loop joins that loop's queue, and the
/// loop runs its queue once it has run the other work of its turn (the requests it read meanwhile join it). No
/// thread hands a request to another: reading, the kernels and writing the answer happen on one thread, and the
/// loops of a group compute side by side, one kernel thread each. What the batching thread's hand-offs cost, and
/// what this placement gained, is in `bench/README.md` ("Batches on the event loops").
extension DynamicBatcher {
    /// The requests one loop has read and not yet run. Only its loop's thread touches one (the closures that carry it
    /// run on that loop), hence unchecked.
    final class LoopQueue: @unchecked Sendable {
        var pending: [Pending] = []
        var scheduled = false
    }

    /// Each loop thread's `LoopQueue`, made on that thread the first time it batches (and its kernels set to one
    /// thread there: the loops are the parallelism).
    final class LoopQueues: @unchecked Sendable {
        private let queues = ThreadSpecificVariable<LoopQueue>()

        var current: LoopQueue {
            if let q = queues.currentValue { return q }
            CPUDevice.threadCount = 1
            let q = LoopQueue()
            queues.currentValue = q
            return q
        }
    }

    /// `infer` for a caller on `loop`'s thread.
    func inferOnLoop(_ input: Tensor, _ loop: any EventLoop) async throws -> (output: Tensor, timing: Timing) {
        let queue = loopQueues.current
        try admit(input.shape[0])
        return try await withCheckedThrowingContinuation { continuation in
            queue.pending.append(Pending(input: input, enqueued: .now, reply: { continuation.resume(with: $0) }))
            if !queue.scheduled {
                queue.scheduled = true
                loop.execute { self.runQueue(queue, on: loop) }
            }
        }
    }

    /// Runs one batch of what `queue` holds (at most `maxBatch` images, cut to a compiled size); what is left leads
    /// the next turn's batch, with the requests read meanwhile, as on the batching thread.
    private func runQueue(_ queue: LoopQueue, on loop: any EventLoop) {
        let length = Self.batchLength(queue.pending.lazy.map(\.count), maxBatch: configuration.maxBatch, sizes: batchSizes)
        let batch = Array(queue.pending.prefix(length))
        queue.pending.removeFirst(length)
        if queue.pending.isEmpty { queue.scheduled = false } else { loop.execute { self.runQueue(queue, on: loop) } }
        dispatched(batch.reduce(0) { $0 + $1.count })
        run(batch)
    }

    /// Whether batches go on the loops: as configured, or for `auto`, whether a full batch takes at most `Configuration.loopBudget`
    /// on one thread (the fastest of three calls; not timed when batch 1 alone shows it cannot). On the batching
    /// thread, after the plans are compiled.
    func decidePlacement() throws -> Bool {
        let full = batchSizes.last!
        func fastest(_ batch: Int, calls: Int) throws -> Duration {
            var rng = SeededRandom(seed: 11)
            let x = Tensor.randomNormal([batch] + model.sampleShape, using: &rng)
            var best = Duration.seconds(3600)
            for _ in 0..<calls {
                let start = ContinuousClock.now
                _ = try model.runtime.run(x)
                best = min(best, start.duration(to: .now))
            }
            return best
        }
        switch configuration.placement {
        case .eventLoops:
            placementDecision = "on the event loops (--batching loops)"
            return true
        case .thread:
            placementDecision = "on the batching thread (--batching thread)"
            return false
        case .auto:
            CPUDevice.threadCount = 1
            defer { CPUDevice.threadCount = threads }
            let one = try fastest(1, calls: 3)
            let estimated = one * full > configuration.loopBudget * 4
            let t = estimated ? one * full : try fastest(full, calls: 3)
            let onLoops = t <= configuration.loopBudget
            placementDecision = String(format: "%@: a batch of %d %@ %.2f ms on one thread, %@ the %.0f ms a loop may spend on one",
                                       onLoops ? "on the event loops" : "on the batching thread", full,
                                       estimated ? "would take (\(full) × batch 1) about" : "takes", t.inMilliseconds,
                                       onLoops ? "within" : "beyond", configuration.loopBudget.inMilliseconds)
            return onLoops
        }
    }
}
