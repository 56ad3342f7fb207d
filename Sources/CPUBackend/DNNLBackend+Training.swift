import GraphCore

/// The training loop's own operations on the CPU: run in the engine's float mode, and Adam spread over the
/// OpenMP team the kernels use, in vector lanes (`AdamKernel`).
extension DNNLBackend {
    public func withFloatMode<R>(_ body: () throws -> R) rethrows -> R { try withFlushedDenormals(body) }

    public func adamStep(_ parameter: inout Tensor, gradient: Tensor, firstMoment m: inout Tensor, secondMoment v: inout Tensor,
                         _ update: AdamUpdate) throws -> Bool {
        guard parameter.count == gradient.count, m.count == gradient.count, v.count == gradient.count else {
            return try fallback.adamStep(&parameter, gradient: gradient, firstMoment: &m, secondMoment: &v, update)   // names the shapes
        }
        return withFlushedDenormals {
            gradient.withUnsafeBufferPointer { g in
                parameter.withUnsafeMutableBufferPointer { p in
                    m.withUnsafeMutableBufferPointer { m in
                        v.withUnsafeMutableBufferPointer { v in
                            let (p, g, m, v) = (SendablePointer(p.baseAddress!), SendablePointer(g.baseAddress!),
                                                SendablePointer(m.baseAddress!), SendablePointer(v.baseAddress!))
                            guard let isa = KernelISA.best else {
                                return OpenMPParallel.all(count: gradient.count) { range in
                                    update.apply(p: p.pointer, g: UnsafePointer(g.pointer), m: m.pointer, v: v.pointer, range)
                                }
                            }
                            return OpenMPParallel.all(count: gradient.count) { range in
                                let s = range.lowerBound
                                return AdamKernel.step(update, isa: isa, p: p.pointer + s, g: UnsafePointer(g.pointer + s),
                                                       m: m.pointer + s, v: v.pointer + s, count: range.count)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A pointer handed to the OpenMP team, each thread touching its own range.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
    init(_ p: UnsafePointer<T>) { pointer = UnsafeMutablePointer(mutating: p) }
}
