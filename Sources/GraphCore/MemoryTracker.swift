import Foundation
import Synchronization

/// Counts the bytes held by tensor storage: what is in use now and the high-water mark.
///
/// The profiler reads `peakBytes` to report the measured peak next to the planned one, so every
/// buffer the engine owns is allocated through `AlignedBuffer`, which reports here.
public final class MemoryTracker: Sendable {
    public static let shared = MemoryTracker()
    /// The tracker new buffers report to: `shared`, unless a measurement binds its own (`$current.withValue`)
    /// so that what other threads and tasks allocate meanwhile stays out of its count.
    @TaskLocal public static var current: MemoryTracker = .shared

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

    public init(byteCount: Int, tracker: MemoryTracker = .current) {
        self.byteCount = byteCount
        self.tracker = tracker
        pointer = BufferPool.shared.take(byteCount) ?? Self.allocate(byteCount)
        tracker.didAllocate(byteCount)
    }

    static let hugePage = 2 << 20
    /// `PNEUMO_NO_HUGEPAGES=1` turns huge pages off (to measure what they bring).
    static let hugePages = ProcessInfo.processInfo.environment["PNEUMO_NO_HUGEPAGES"] == nil

    /// Blocks of 2 MiB or more start on a 2 MiB boundary and ask for transparent huge pages: weights are
    /// streamed once per call, and with 4 KiB pages every page of a 9 MB weight tensor is a TLB miss.
    ///
    /// A request the system refuses ends the process with a message and status 1, not an abort and a backtrace: what
    /// gets here is a size the user asked for (a batch or an image too large for this machine; the runtime's plans
    /// refuse theirs earlier, with the shapes), not a bug.
    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let huge = bytes >= hugePage && hugePages
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, huge ? hugePage : alignment, max(bytes, 1)) == 0, let p else {
            FileHandle.standardError.write(Data(("pneumo: out of memory: \(describe(bytes: Double(bytes))) requested for one tensor; this machine has "
                                                 + "\(describe(bytes: Double(ProcessInfo.processInfo.physicalMemory))). A smaller batch or input size fits.\n").utf8))
            exit(1)
        }
        #if os(Linux)
        if huge { _ = madvise(p, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return p
    }

    /// Returns to the system the freed blocks kept for reuse (`BufferPool`): for a long-lived process once it has
    /// compiled its plans, whose races leave blocks of sizes no call asks for again. Returns their bytes.
    @discardableResult
    public static func releasePooledBlocks() -> Int { BufferPool.shared.releaseAll() }

    deinit {
        if !BufferPool.shared.give(pointer, byteCount) { free(pointer) }
        tracker.didFree(byteCount)
    }
}

/// Keeps freed blocks of large sizes for reuse, like PyTorch's caching allocator: a training step
/// allocates the same activation and gradient sizes every time, and fresh pages from the system cost a
/// page fault each (tens of milliseconds a step for ResNet-18). Blocks in the pool are not "in use" for
/// `MemoryTracker`; the pool holds at most `limit` bytes and releases nothing else.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    /// Below this, malloc's own bins are as good.
    static let minimumBytes = 64 * 1024
    let limit = 1 << 30

    /// Addresses as integers (pointers are not `Sendable`); each is a block of the key's size.
    private struct State { var blocks: [Int: [UInt]] = [:]; var bytes = 0 }
    private let state = Mutex(State())

    func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= Self.minimumBytes else { return nil }
        return state.withLock { s in
            guard let address = s.blocks[bytes]?.popLast() else { return nil }
            s.bytes -= bytes
            return UnsafeMutableRawPointer(bitPattern: address)
        }
    }

    /// Frees every block the pool keeps; returns their bytes.
    func releaseAll() -> Int {
        let (addresses, bytes) = state.withLock { s in
            defer { s = State() }
            return (s.blocks.values.flatMap { $0 }, s.bytes)
        }
        for a in addresses { free(UnsafeMutableRawPointer(bitPattern: a)) }
        Self.trimMallocHeap()
        return bytes
    }

    /// glibc's `malloc_trim(0)`, where the C library has it (looked up: Swift's Glibc module does not declare it).
    /// Blocks below glibc's mmap threshold, which rises with the sizes freed, go back to its heap, not to the system.
    private static func trimMallocHeap() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// True when the pool kept the block (the caller must not free it).
    func give(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) -> Bool {
        guard bytes >= Self.minimumBytes else { return false }
        let address = UInt(bitPattern: pointer)
        return state.withLock { s in
            guard s.bytes + bytes <= limit else { return false }
            s.blocks[bytes, default: []].append(address)
            s.bytes += bytes
            return true
        }
    }
}
