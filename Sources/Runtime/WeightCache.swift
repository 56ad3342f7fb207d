import CDNNL
import CPUBackend
import Foundation
import GraphCore

/// Weight buffers already laid out for a primitive, by parameter name and descriptor (`nil`: a plain
/// vector), so that the slices of a batch-split plan, and a runtime's plans of every batch size, hold one copy.
/// Used while compiling; locked, as two runtimes sharing plans (`Runtime.checking`) may compile at once.
final class WeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var laidOut: [String: [(md: MemoryDesc, buffer: AlignedBuffer)]] = [:]
    private var vectors: [String: AlignedBuffer] = [:]
    private var integers: [String: (integers: [Float], scales: [Float])] = [:]

    func buffer(_ name: String, _ md: const_dnnl_memory_desc_t?, make: () throws -> AlignedBuffer) throws -> AlignedBuffer {
        lock.lock()
        defer { lock.unlock() }
        guard let md else {
            if let b = vectors[name] { return b }
            let b = try make()
            vectors[name] = b
            return b
        }
        if let hit = laidOut[name]?.first(where: { $0.md.equals(md) }) { return hit.buffer }
        let b = try make()
        laidOut[name, default: []].append((try MemoryDesc(cloning: md), b))
        return b
    }

    /// A weight's INT8 integers and scales (`Int8WeightRange.quantize`, whose scale search is the costly part), by
    /// parameter name: one plan has one weight range.
    func quantized(_ name: String, make: () -> (integers: [Float], scales: [Float])) -> (integers: [Float], scales: [Float]) {
        lock.lock()
        defer { lock.unlock() }
        if let hit = integers[name] { return hit }
        let q = make()
        integers[name] = q
        return q
    }
}
