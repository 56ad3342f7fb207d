/// A classifier head in one step: `y[n][k] = b[k] + Σ_c W[k][c] · mean_p x[n][p][c]`, global average pooling of an
/// NHWC map `[N, H, W, C]` then a linear layer `[K, C]`, into row-major `[N, K]` logits.
///
/// Two oneDNN calls (pooling, inner product) cost PneumoNet about 1.9 µs at batch 1 for ~2k additions and 256
/// multiplications; folding the mean into one oneDNN inner product over the whole map is slower still (3 µs: its
/// kernel for one row and two outputs). This loop takes well under a microsecond.
package final class GlobalPoolLinear: @unchecked Sendable {
    package let batch: Int, plane: Int, channels: Int, classes: Int
    private let weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    private var sums: UnsafeMutablePointer<Float>?
    package let workspaceBytes: Int

    /// - Parameters:
    ///   - weight: `[K, C]` row-major; `bias`: `[K]` or nil. Both are read at every call: they must outlive this object.
    package init(batch: Int, plane: Int, channels: Int, classes: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) throws {
        guard batch > 0, plane > 0, channels > 0, classes > 0 else {
            throw EngineError.invalid("pool+linear", "sizes must be positive; got N\(batch) H·W \(plane) C\(channels) K\(classes)")
        }
        (self.batch, self.plane, self.channels, self.classes, self.weight, self.bias) = (batch, plane, channels, classes, weight, bias)
        workspaceBytes = channels * MemoryLayout<Float>.size
    }

    package var implementation: String { "pool+linear" }

    /// The channel sums of one image go to `workspace`.
    package func bind(workspace: UnsafeMutableRawPointer) {
        sums = workspace.assumingMemoryBound(to: Float.self)
    }

    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) throws {
        guard let sums else { throw EngineError.invalid("pool+linear", "run before bind(workspace:)") }
        let (c, scale) = (channels, 1 / Float(plane))
        for n in 0..<batch {
            let image = input + n * plane * c
            sums.update(from: image, count: c)
            for p in 1..<plane {
                let pixel = image + p * c
                for ch in 0..<c { sums[ch] += pixel[ch] }
            }
            for k in 0..<classes {
                let row = weight + k * c
                var dot: Float = 0
                for ch in 0..<c { dot += row[ch] * sums[ch] }
                output[n * classes + k] = dot * scale + (bias?[k] ?? 0)
            }
        }
    }
}

extension GlobalPoolLinear: ArenaKernel {}
