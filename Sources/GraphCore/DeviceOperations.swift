/// The backend operations that are not kernels of a model op: the training loop's element-wise updates and
/// the float mode. The defaults here are host loops over the tensors' storage, right for any backend whose
/// tensors live in host memory; a device with its own memory overrides them (the CPU backend parallelises Adam).
extension Backend {
    public func withFloatMode<R>(_ body: () throws -> R) rethrows -> R { try body() }

    /// `x` rounded onto the grid of `q`.
    public func fakeQuantize(_ x: Tensor, _ q: QuantizationAttributes) throws -> Tensor {
        var y = x.contiguous()
        y.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = q.apply(b[i]) } }
        return y
    }

    /// The straight-through estimator: the rounding's gradient is taken as 1 where `x` is inside the grid, 0 outside.
    public func fakeQuantizeBackward(_ gradOut: Tensor, x: Tensor, _ q: QuantizationAttributes) throws -> Tensor {
        let (x, lo, hi) = (x.contiguous(), q.low * q.scale, q.high * q.scale)
        var dx = gradOut.contiguous()
        x.withUnsafeBufferPointer { xs in
            dx.withUnsafeMutableBufferPointer { d in for i in d.indices where xs[i] < lo || xs[i] > hi { d[i] = 0 } }
        }
        return dx
    }

    /// `(1 − momentum)·running + momentum·scale·batch`, element-wise: batch-norm's running statistics.
    public func momentumUpdate(_ running: Tensor, batch: Tensor, momentum: Float, scale: Float) throws -> Tensor {
        guard running.count == batch.count else {
            throw EngineError.shape("momentum update", "running \(describe(running.shape)), batch \(describe(batch.shape))")
        }
        var out = running.contiguous()
        let b = batch.contiguous()
        b.withUnsafeBufferPointer { bs in
            out.withUnsafeMutableBufferPointer { r in for c in r.indices { r[c] = (1 - momentum) * r[c] + momentum * bs[c] * scale } }
        }
        return out
    }

    /// Inverted dropout's mask for `x`: 0 with probability `p`, else 1/(1 − p); drawn from `rng` in element
    /// order, so that a seed gives the same mask on every device.
    public func dropoutMask(like x: Tensor, probability p: Float, rng: inout SeededRandom) throws -> Tensor {
        var mask = Tensor(uninitialized: x.shape, layout: x.layout)
        let keep = 1 / (1 - p)
        mask.withUnsafeMutableBufferPointer { m in for j in m.indices { m[j] = rng.nextUniform() < p ? 0 : keep } }
        return mask
    }

    /// One Adam step in place on `parameter` and its moments (all of `gradient`'s element count, row-major);
    /// false when a gradient is NaN or ±∞, in which case the update is incomplete.
    public func adamStep(_ parameter: inout Tensor, gradient: Tensor, firstMoment m: inout Tensor, secondMoment v: inout Tensor,
                         _ update: AdamUpdate) throws -> Bool {
        try update.checkCounts(parameter, gradient, m, v)
        return try withFloatMode {
            gradient.withUnsafeBufferPointer { g in
                parameter.withUnsafeMutableBufferPointer { p in
                    m.withUnsafeMutableBufferPointer { m in
                        v.withUnsafeMutableBufferPointer { v in
                            update.apply(p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, 0..<p.count)
                        }
                    }
                }
            }
        }
    }
}
