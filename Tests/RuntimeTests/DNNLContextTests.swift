import Testing
import CDNNL
@testable import CPUBackend
@testable import GraphCore

/// `DNNLContext`'s cached primitives.
@Suite struct DNNLContextTests {
    /// A reorder cached under a key refuses a call whose descriptors are not the ones it was made for, so that a key
    /// shared by several shapes throws instead of reading and writing past the buffers (the heap corruption of `auto`'s
    /// Winograd races, `WinogradTests.racesOfSeveralShapesEachComputeDirectsOutput`); the same key with its own
    /// descriptors still reorders.
    @Test func cachedReorderRefusesOtherDescriptors() throws {
        let ctx = try #require(DNNLContext.shared)
        let key = "test|reorder-refuses-other-descriptors"
        func reorder(_ dims: [Int]) throws -> [Float] {
            var x = (0..<dims.reduce(1, *)).map(Float.init)
            let (from, to) = (try MemoryDesc(dims: dims, tag: dnnl_abcd), try MemoryDesc(dims: dims, tag: dnnl_acdb))
            let out = try x.withUnsafeMutableBytes { try ctx.reorder($0.baseAddress!, from: from.handle, to: to.handle, key: key) }
            return Array(UnsafeBufferPointer(start: out.pointer.assumingMemoryBound(to: Float.self), count: x.count))
        }
        #expect(try reorder([1, 4, 2, 2]) == [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15])
        #expect(try reorder([1, 4, 2, 2]).count == 16)
        #expect(throws: EngineError.invalid("reorder", "the reorder cached as '\(key)' was made for other descriptors than this call's")) {
            _ = try reorder([1, 8, 2, 2])
        }
    }
}
