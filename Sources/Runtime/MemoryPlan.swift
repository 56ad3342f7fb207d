/// Offsets of every intermediate buffer in one arena, reusing memory by liveness: a buffer's block is
/// free again after its last reader runs. The incremental allocator is first fit, 64-byte aligned; plans lay
/// their buffers out with `layout`, which also tries the largest first. The arena's size is the plan's
/// activation peak, a computed fact that the allocator's high-water mark then confirms.
struct MemoryPlanner {
    private var free: [(offset: Int, size: Int)] = []
    private(set) var size = 0

    static func aligned(_ n: Int) -> Int { (n + 63) & ~63 }

    mutating func allocate(_ bytes: Int) -> Int {
        let need = Self.aligned(max(bytes, 1))
        if let k = free.firstIndex(where: { $0.size >= need }) {
            let block = free[k]
            if block.size == need { free.remove(at: k) } else { free[k] = (block.offset + need, block.size - need) }
            return block.offset
        }
        // Grow, merging with a free block that ends the arena.
        if let k = free.firstIndex(where: { $0.offset + $0.size == size }) {
            let block = free.remove(at: k)
            size = block.offset + need
            return block.offset
        }
        defer { size += need }
        return size
    }

    mutating func release(_ offset: Int, _ bytes: Int) {
        free.append((offset, Self.aligned(max(bytes, 1))))
        free.sort { $0.offset < $1.offset }
        var merged: [(offset: Int, size: Int)] = []
        for b in free {
            if let last = merged.last, last.offset + last.size == b.offset { merged[merged.count - 1].size += b.size } else { merged.append(b) }
        }
        free = merged
    }
}

extension MemoryPlanner {
    /// A buffer's size and the steps it lives through (from its first to its last reference, both included).
    struct Lifetime {
        var bytes: Int
        var steps: ClosedRange<Int>
    }

    /// Offsets for `buffers` (nil: never used, offset -1) such that no two that live at the same step overlap,
    /// and the arena size: the smaller of two layouts. First fit in step order (as buffers appear and die) can strand
    /// a large buffer above small ones still alive; greedy by size (largest first, each at the lowest offset clear of
    /// the already placed buffers it lives alongside) packs those, often down to the lower bound (the most bytes alive
    /// at one step), but it is a heuristic, not always the better one; `pneumo profile` reports the planned bytes.
    static func layout(_ buffers: [Lifetime?]) -> (offsets: [Int], size: Int) {
        let firstFit = inStepOrder(buffers), bySize = greedyBySize(buffers)
        return bySize.size < firstFit.size ? bySize : firstFit
    }

    /// The most bytes (64-byte aligned) alive at one step: no layout is smaller.
    static func lowerBound(_ buffers: [Lifetime?]) -> Int {
        let live = buffers.compactMap { $0 }
        let steps = Set(live.flatMap { [$0.steps.lowerBound, $0.steps.upperBound] })
        return steps.map { k in live.filter { $0.steps.contains(k) }.reduce(0) { $0 + aligned(max($1.bytes, 1)) } }.max() ?? 0
    }

    static func inStepOrder(_ buffers: [Lifetime?]) -> (offsets: [Int], size: Int) {
        var planner = MemoryPlanner()
        var offsets = [Int](repeating: -1, count: buffers.count)
        let steps = buffers.compactMap { $0?.steps.upperBound }.max() ?? -1
        guard steps >= 0 else { return (offsets, 0) }
        for k in 0...steps {
            for (b, life) in buffers.enumerated() where life?.steps.lowerBound == k { offsets[b] = planner.allocate(life!.bytes) }
            for (b, life) in buffers.enumerated() where life?.steps.upperBound == k { planner.release(offsets[b], life!.bytes) }
        }
        return (offsets, planner.size)
    }

    static func greedyBySize(_ buffers: [Lifetime?]) -> (offsets: [Int], size: Int) {
        var offsets = [Int](repeating: -1, count: buffers.count)
        let order = buffers.indices.filter { buffers[$0] != nil }
            .sorted { (buffers[$0]!.bytes, buffers[$1]!.steps.lowerBound) > (buffers[$1]!.bytes, buffers[$0]!.steps.lowerBound) }
        var placed: [(offset: Int, size: Int, steps: ClosedRange<Int>)] = []
        var size = 0
        for b in order {
            let life = buffers[b]!, need = aligned(max(life.bytes, 1))
            var offset = 0
            for other in placed.filter({ $0.steps.overlaps(life.steps) }).sorted(by: { $0.offset < $1.offset }) {
                if offset + need <= other.offset { break }
                offset = max(offset, other.offset + other.size)
            }
            offsets[b] = offset
            placed.append((offset, need, life.steps))
            size = max(size, offset + need)
        }
        return (offsets, size)
    }
}
