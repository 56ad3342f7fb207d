import GraphCore
/// A classifier head in one step: `y[n][k] = b[k] + Σ_c W[k][c] · mean_p x[n][p][c]`, global average pooling of an
/// NHWC map `[N, H, W, C]` then a linear layer `[K, C]`, into row-major `[N, K]` logits.
///
/// Two oneDNN calls (pooling, inner product) cost a small head (PneumoNet's: ~2k additions and 256 multiplications at
/// batch 1) more in call overhead than in arithmetic, and one oneDNN inner product over the whole map is slower still
/// (its kernel for one row and two outputs); one loop, images split over the team at larger batches, avoids both
/// (figures: `bench/README.md`, "Kernel decisions").
package final class GlobalPoolLinear: @unchecked Sendable {
    package let batch: Int, plane: Int, channels: Int, classes: Int
    private let weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    /// None: each thread keeps its channel sums on its stack.
    package let workspaceBytes = 0

    /// - Parameters:
    ///   - weight: `[K, C]` row-major; `bias`: `[K]` or nil. Both are read at every call: they must outlive this object.
    package init(batch: Int, plane: Int, channels: Int, classes: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) throws {
        guard batch > 0, plane > 0, channels > 0, classes > 0 else {
            throw EngineError.invalid("pool+linear", "sizes must be positive; got N\(batch) H·W \(plane) C\(channels) K\(classes)")
        }
        (self.batch, self.plane, self.channels, self.classes, self.weight, self.bias) = (batch, plane, channels, classes, weight, bias)
    }

    package var implementation: String { "pool+linear" }

    package func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                     workspace: KernelWorkspace) throws {
        let (c, plane, classes, weight, bias, scale) = (channels, plane, classes, weight, bias, 1 / Float(plane))
        // Images split over the team: at batch 64 the map (PneumoNet's 512 KB) is read where the last step left it, in
        // both cores' caches. Each thread keeps its channel sums on its stack.
        _ = OpenMPParallel.all(count: batch, minimumPerThread: max(1, 8192 / (plane * c))) { images in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { sums in
                let sums = sums.baseAddress!
                for n in images {
                    Self.sumPixels(input + n * plane * c, plane, c, into: sums)
                    for k in 0..<classes {
                        output[n * classes + k] = Self.dot(weight + k * c, sums, c) * scale + (bias?[k] ?? 0)
                    }
                }
            }
            return true
        }
    }

    /// `sums[ch] = Σ_p image[p][ch]`, 16 channels at a time (the scalar loop did not vectorize).
    private static func sumPixels(_ image: UnsafePointer<Float>, _ plane: Int, _ c: Int, into sums: UnsafeMutablePointer<Float>) {
        var ch = 0
        while ch + 16 <= c {
            var lanes = UnsafeRawPointer(image + ch).loadUnaligned(as: SIMD16<Float>.self)
            for p in 1..<plane { lanes += UnsafeRawPointer(image + p * c + ch).loadUnaligned(as: SIMD16<Float>.self) }
            UnsafeMutableRawPointer(sums + ch).storeBytes(of: lanes, as: SIMD16<Float>.self)
            ch += 16
        }
        for rest in ch..<c {
            var sum = image[rest]
            for p in 1..<plane { sum += image[p * c + rest] }
            sums[rest] = sum
        }
    }

    /// `Σ a[i]·b[i]` in 16 lanes: a float sum in one scalar chain does not vectorize (its order is fixed).
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var sum = lanes.sum()
        while i < count { sum += a[i] * b[i]; i += 1 }
        return sum
    }
}

extension GlobalPoolLinear: ArenaKernel {}
