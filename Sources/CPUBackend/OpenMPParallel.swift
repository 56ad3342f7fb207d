import GraphCore
import CDNNL

/// Splits element-wise work over the OpenMP team oneDNN runs on (`GOMP_parallel`). Using the same
/// threads matters on small machines: after a primitive, OpenMP's workers spin for a while, and a second
/// thread pool would compete with them for the cores.
public enum OpenMPParallel {
    private struct Job {
        let count: Int
        let body: (Range<Int>) -> Bool
        /// One slot per thread, on the caller's stack: no allocation per call on the runtime's hot path.
        let failed: UnsafeMutablePointer<Bool>
    }

    /// Runs `body` on contiguous chunks covering `0..<count`, one per OpenMP thread when `count` is large;
    /// true when every chunk returned true.
    public static func all(count: Int, minimumPerThread: Int = 1 << 16, _ body: (Range<Int>) -> Bool) -> Bool {
        let threads = min(DNNLContext.threadCount, max(1, count / minimumPerThread))
        guard threads > 1 else { return body(0..<count) }
        return withoutActuallyEscaping(body) { body in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: threads) { failed in
                failed.initialize(repeating: false)
                var job = Job(count: count, body: body, failed: failed.baseAddress!)
                withUnsafeMutablePointer(to: &job) { pointer in
                    GOMP_parallel({ raw in
                        let job = raw!.assumingMemoryBound(to: Job.self)
                        let (t, n) = (Int(omp_get_thread_num()), Int(omp_get_num_threads()))
                        let size = (job.pointee.count + n - 1) / n
                        let range = min(job.pointee.count, t * size)..<min(job.pointee.count, (t + 1) * size)
                        // Each thread writes only its own slot.
                        if !job.pointee.body(range) { job.pointee.failed[t] = true }
                    }, pointer, UInt32(threads), 0)
                }
                return !failed.contains(true)
            }
        }
    }
}
