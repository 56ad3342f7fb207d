import Foundation

/// An n-dimensional float32 array with value semantics (copy-on-write over an aligned, tracked buffer).
///
/// # Shapes and layout
/// `shape` is always logical (NCHW for images). `layout == .channelsLast` means a 4-D tensor's elements lie
/// in NHWC order; `scalars` and `contiguous()` always give the logical row-major order.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let layout: Layout
    public let dtype: DType = .float32
    public private(set) var buffer: AlignedBuffer

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var byteCount: Int { count * dtype.byteSize }

    /// Uninitialised storage, for kernels that write every element.
    public init(uninitialized shape: [Int], layout: Layout = .rowMajor) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(layout == .rowMajor || shape.count == 4, "channelsLast needs a 4-D shape, got \(shape)")
        self.shape = shape
        self.layout = layout
        buffer = AlignedBuffer(byteCount: shape.reduce(1, *) * MemoryLayout<Float>.stride)
    }

    public init(zeros shape: [Int], layout: Layout = .rowMajor) {
        self.init(repeating: 0, shape: shape, layout: layout)
    }

    public init(repeating value: Float, shape: [Int], layout: Layout = .rowMajor) {
        self.init(uninitialized: shape, layout: layout)
        buffer.pointer.initializeMemory(as: Float.self, repeating: value, count: count)
    }

    /// Elements in logical row-major order.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw EngineError.shape("Tensor", "\(scalars.count) values do not fill shape \(describe(shape))")
        }
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { src in
            buffer.pointer.copyMemory(from: src.baseAddress!, byteCount: src.count * 4)
        }
    }

    public init(scalar: Float) {
        self.init(repeating: scalar, shape: [])
    }

    /// Physical elements, in `layout` order.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: buffer.pointer.assumingMemoryBound(to: Float.self), count: count))
    }

    /// Physical elements, mutable; copies the storage first when it is shared (copy-on-write).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&buffer) {
            let copy = AlignedBuffer(byteCount: buffer.byteCount)
            copy.pointer.copyMemory(from: buffer.pointer, byteCount: buffer.byteCount)
            buffer = copy
        }
        return try body(UnsafeMutableBufferPointer(start: buffer.pointer.assumingMemoryBound(to: Float.self), count: count))
    }

    /// Raw pointer to the storage, for backends that hand it to a C library. The caller must own the
    /// tensor uniquely when it writes through it (kernels write only into tensors they just created).
    public var rawPointer: UnsafeMutableRawPointer { buffer.pointer }

    /// The elements in logical row-major order.
    public var scalars: [Float] {
        contiguous().withUnsafeBufferPointer { Array($0) }
    }

    /// The same values with the logical row-major layout.
    public func contiguous() -> Tensor { converted(to: .rowMajor) }

    /// The same values stored in `target` order (a copy only when the layout changes).
    public func converted(to target: Layout) -> Tensor {
        if target == layout { return self }
        precondition(shape.count == 4)
        var out = Tensor(uninitialized: shape, layout: target)
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    let base = b * c * hw
                    for ch in 0..<c {
                        for p in 0..<hw {
                            if target == .channelsLast {
                                dst[base + p * c + ch] = src[base + ch * hw + p]
                            } else {
                                dst[base + ch * hw + p] = src[base + p * c + ch]
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The same elements under another shape with the same count (row-major).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count, newShape.allSatisfy({ $0 >= 0 }) else {
            throw EngineError.shape("reshape", "cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape))")
        }
        let base = contiguous()
        return Tensor(sharing: base.buffer, shape: newShape, layout: .rowMajor)
    }

    private init(sharing buffer: AlignedBuffer, shape: [Int], layout: Layout) {
        self.buffer = buffer
        self.shape = shape
        self.layout = layout
    }

    /// Wraps an existing buffer (for backends that produce results in place).
    public static func wrapping(_ buffer: AlignedBuffer, shape: [Int], layout: Layout) -> Tensor {
        precondition(buffer.byteCount >= shape.reduce(1, *) * 4)
        return Tensor(sharing: buffer, shape: shape, layout: layout)
    }

    /// Rows `range` of the first dimension (row-major), copied: a sub-batch.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let base = contiguous()
        let stride = count / max(shape[0], 1)
        var out = Tensor(uninitialized: [range.count] + shape.dropFirst())
        out.withUnsafeMutableBufferPointer { dst in
            base.withUnsafeBufferPointer { src in
                dst.baseAddress!.update(from: src.baseAddress! + range.lowerBound * stride, count: range.count * stride)
            }
        }
        return out
    }

    /// Rows `indices` of the first dimension (row-major), copied in that order.
    public func rows(at indices: [Int]) -> Tensor {
        precondition(rank >= 1 && indices.allSatisfy { $0 >= 0 && $0 < shape[0] })
        let base = contiguous()
        let stride = count / max(shape[0], 1)
        var out = Tensor(uninitialized: [indices.count] + shape.dropFirst())
        out.withUnsafeMutableBufferPointer { dst in
            base.withUnsafeBufferPointer { src in
                for (j, i) in indices.enumerated() {
                    (dst.baseAddress! + j * stride).update(from: src.baseAddress! + i * stride, count: stride)
                }
            }
        }
        return out
    }

    /// True when any element is NaN or infinite.
    public var hasNonFinite: Bool {
        // x·0 is 0 for every finite x and NaN for NaN and ±∞: one branch-free, vectorizable pass.
        withUnsafeBufferPointer { buf in
            var acc: Float = 0
            for v in buf { acc += v * 0 }
            return !acc.isFinite
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(describe(shape))(\(values)\(count > 8 ? ", …" : ""))"
    }
}
