import CDNNL
import CPUBackend
import Foundation
import GraphCore

/// Weight buffers already laid out for a primitive, by parameter name and descriptor (`nil`: a plain vector), so that
/// the slices of a batch-split plan, and a runtime's plans of every batch size, hold one copy.
///
/// During a compile the cache holds what it made, so that the arrangements the tuner races share it; when the compile
/// ends (`compileEnded`) it lets go, and keeps only what a plan still holds: a runtime's cache does not keep the
/// weights of arrangements no plan took. Locked, as two runtimes sharing plans (`Runtime.checking`) may compile at once.
final class WeightCache: @unchecked Sendable {
    private struct Kept {
        let md: MemoryDesc?
        weak var buffer: AlignedBuffer?
    }

    private let lock = NSLock()
    private var kept: [String: [Kept]] = [:]
    /// What the compile under way made, until it ends (what it found from an earlier compile, a plan holds).
    private var held: [AlignedBuffer] = []
    private var integers: [String: (integers: [Float], scales: [Float])] = [:]

    func buffer(_ name: String, _ md: const_dnnl_memory_desc_t?, make: () throws -> AlignedBuffer) throws -> AlignedBuffer {
        lock.lock()
        defer { lock.unlock() }
        let hit = kept[name]?.lazy.compactMap { k -> AlignedBuffer? in
            guard let b = k.buffer else { return nil }
            if let md { return k.md?.equals(md) == true ? b : nil }
            return k.md == nil ? b : nil
        }.first
        let b = try hit ?? make()
        if hit == nil {
            kept[name, default: []].append(Kept(md: try md.map { try MemoryDesc(cloning: $0) }, buffer: b))
            held.append(b)
        }
        return b
    }

    /// A weight's INT8 integers and scales (`Int8WeightRange.quantize`, whose scale search is the costly part), by
    /// parameter name, for the compile under way: one plan has one weight range.
    func quantized(_ name: String, make: () -> (integers: [Float], scales: [Float])) -> (integers: [Float], scales: [Float]) {
        lock.lock()
        defer { lock.unlock() }
        if let hit = integers[name] { return hit }
        let q = make()
        integers[name] = q
        return q
    }

    /// Lets go of what the compile made; buffers no plan holds are freed, and their entries dropped.
    func compileEnded() {
        lock.lock()
        defer { lock.unlock() }
        held.removeAll()
        integers.removeAll()
        for (name, entries) in kept {
            let live = entries.filter { $0.buffer != nil }
            kept[name] = live.isEmpty ? nil : live
        }
    }
}
