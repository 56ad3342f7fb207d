import Synchronization

/// Counts the bytes held by tensor storage: what is in use now and the high-water mark.
///
/// The profiler reads `peakBytes` to report the measured peak next to the planned one, so every
/// buffer the engine owns is allocated through `AlignedBuffer`, which reports here.
public final class MemoryTracker: Sendable {
    public static let shared = MemoryTracker()

    private struct Counts { var inUse = 0; var peak = 0; var allocations = 0 }
    private let counts = Mutex(Counts())

    public init() {}

    public var bytesInUse: Int { counts.withLock { $0.inUse } }
    public var peakBytes: Int { counts.withLock { $0.peak } }
    /// How many buffers have been allocated since the last `resetPeak()`.
    public var allocationCount: Int { counts.withLock { $0.allocations } }

    /// Starts a new measurement window: the peak becomes what is in use now.
    public func resetPeak() {
        counts.withLock { $0.peak = $0.inUse; $0.allocations = 0 }
    }

    func didAllocate(_ bytes: Int) {
        counts.withLock {
            $0.inUse += bytes
            $0.allocations += 1
            if $0.inUse > $0.peak { $0.peak = $0.inUse }
        }
    }

    func didFree(_ bytes: Int) {
        counts.withLock { $0.inUse -= bytes }
    }
}

/// A 64-byte-aligned, tracked, uninitialised block of memory. 64 bytes is a cache line and the widest
/// vector (AVX-512) oneDNN's kernels load, so every tensor starts on such a boundary.
public final class AlignedBuffer: @unchecked Sendable {
    public static let alignment = 64
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    private let tracker: MemoryTracker

    public init(byteCount: Int, tracker: MemoryTracker = .shared) {
        self.byteCount = byteCount
        self.tracker = tracker
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        tracker.didAllocate(byteCount)
    }

    deinit {
        pointer.deallocate()
        tracker.didFree(byteCount)
    }
}
