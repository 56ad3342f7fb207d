/// Offsets of every intermediate buffer in one arena, reusing memory by liveness: a buffer's block is
/// free again after its last reader runs. First fit, 64-byte aligned. The arena's size is the plan's
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
