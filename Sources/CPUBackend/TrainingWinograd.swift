import Foundation
import GraphCore
import Synchronization

/// Winograd for the training step's 3×3 stride-1 convolutions: the forward pass; the input gradient, itself a 3×3
/// stride-1 convolution (of the output gradient, with the weights flipped and transposed); and the weight gradient, the
/// forward's transpose (`WinogradWeightGradient`). oneDNN 3.x has no float Winograd on the CPU; `WinogradConv3x3` with
/// our products does 2.25× (F(2×2, 3×3)) or 4× (F(4×4, 3×3)) fewer multiplications. The weights change at every step,
/// so every call transforms them again (`packedWeights`, straight into the products' layout); each shape's race counts
/// that cost, and where the weights outweigh the activations (late layers at small maps) direct wins it.
///
/// Per shape and direction (forward, input or weight gradient), once per process: direct against each variant on the
/// first call's own tensors, Winograd taken when at least `margin`× as fast. The batch size is not part of the shape:
/// the work per image is, and a decision made on the training batch holds for validation's larger batches, which would
/// otherwise race every shape again. Calls of fewer than `minimumMACs` multiply-adds stay direct untimed.
/// On ResNet-18's 64 px maps the race overstated Winograd, and whole steps came out level (bench/README, "Winograd in
/// the training step"); on the spec's 224 px maps they were clearly shorter.
/// `PNEUMO_TRAINING_WINOGRAD=off|f2x2|f4x4` forces the choice wherever the shape allows it (tests, benchmarks).
enum TrainingWinograd {
    enum Direction { case forward, inputGradient }

    /// What a shape and direction run: nil for oneDNN's direct convolution.
    typealias Choice = WinogradConv3x3.Variant?

    /// Below this, a race costs more than Winograd could save over a run, and small shapes keep oneDNN's results.
    static let minimumMACs = 1 << 25
    /// Winograd must beat direct by this factor in its race, above the timing noise of a shared machine.
    static let margin = 1.1

    private static let decisions = Mutex<[String: Choice]>([:])

    /// `PNEUMO_TRAINING_WINOGRAD`: `.some(nil)` for `off`, `.some(variant)` for `f2x2`/`f4x4`, nil when unset (races).
    static let forced: Choice? = {
        let value = ProcessInfo.processInfo.environment["PNEUMO_TRAINING_WINOGRAD"]
        let forced = choice(value)
        if let value, forced == nil, value != "auto" {
            FileHandle.standardError.write(Data("pneumo: PNEUMO_TRAINING_WINOGRAD=\(value) is none of auto, off, f2x2, f4x4; ignored\n".utf8))
        }
        return forced
    }()

    static func choice(_ value: String?) -> Choice? {
        switch value {
        case "off": .some(nil)
        case "f2x2": .some(.f2x2)
        case "f4x4": .some(.f4x4)
        default: nil
        }
    }

    /// Whether a convolution of `input` (`[N, C, H, W]`) by `weight` (`[K, C, 3, 3]`) can run on Winograd: its input
    /// gradient then can too (the same attributes, channels swapped).
    static func applies(input: [Int], weight: [Int], _ a: Conv2dAttributes) -> Bool {
        WinogradConv3x3.applies(input: input, weight: weight, a) && WinogradConv3x3.Products.avx2.isSupported
    }

    /// The convolution of `x` (`[N, C, H, W]`, channels last) by the 3×3 weights `weight` (`[K, C, 3, 3]`, row-major),
    /// stride 1, pad 1, plus `bias`, on Winograd where this shape's choice is Winograd; nil where it is direct.
    /// `direct` computes the same on oneDNN, for the race. `.inputGradient`: `x` is the output gradient `[N, K, H, W]`
    /// and the result the input gradient `[N, C, H, W]`.
    static func convolve(_ x: Tensor, weight: Tensor, bias: Tensor?, _ direction: Direction, ctx: DNNLContext,
                         direct: () throws -> Tensor) throws -> Tensor? {
        let (k, c) = direction == .forward ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let variant = try choice(for: "\(direction)", n: n, c: c, k: k, h: h, w: w, direct: direct) { v in
            try run(x, weight: weight, bias: bias, direction, variant: v, ctx: ctx)
        }
        return try variant.map { try run(x, weight: weight, bias: bias, direction, variant: $0, ctx: ctx) }
    }

    /// The weight gradient `(dW, dB)` of such a convolution on Winograd (`WinogradWeightGradient`) where this shape's
    /// choice is Winograd; nil where it is direct. `x` and `gradOut` are channels last; `direct` computes the same on
    /// the backend's own path, for the race.
    static func weightGradient(_ gradOut: Tensor, x: Tensor, hasBias: Bool,
                               direct: () throws -> (Tensor, Tensor?)) throws -> (Tensor, Tensor?)? {
        let (n, c, h, w, k) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], gradOut.shape[1])
        let variant = try choice(for: "weightGradient", n: n, c: c, k: k, h: h, w: w, direct: direct) { v in
            try WinogradWeightGradient.compute(gradOut: gradOut, x: x, variant: v, hasBias: hasBias)
        }
        return try variant.map { try WinogradWeightGradient.compute(gradOut: gradOut, x: x, variant: $0, hasBias: hasBias) }
    }

    /// What a call of `kind` with these sizes runs: forced, direct below `minimumMACs`, or this shape's decision, raced
    /// on this call's tensors the first time the shape is seen.
    static func choice<R>(for kind: String, n: Int, c: Int, k: Int, h: Int, w: Int, direct: () throws -> R,
                          winograd: (WinogradConv3x3.Variant) throws -> R) throws -> Choice {
        if let forced { return forced }
        if n * h * w * c * k * 9 < minimumMACs { return nil }
        let key = key(kind, c: c, k: k, h: h, w: w)
        if let decided = decisions.withLock({ $0[key] }) { return decided }
        // A decision an earlier run kept (a resumed training run then computes with the kernels it started with).
        let store = TimedDecisions.active
        if let kept = store?.training(key), kept == "direct" || WinogradConv3x3.Variant(rawValue: kept) != nil {
            let variant = WinogradConv3x3.Variant(rawValue: kept)
            decisions.withLock { $0[key] = variant }
            return variant
        }
        let variant = try race(WinogradConv3x3.Variant.worthRacing(height: h, width: w), direct: direct, winograd: winograd)
        decisions.withLock { $0[key] = variant }
        store?.record(training: key, variant?.rawValue ?? "direct")
        if ProcessInfo.processInfo.environment["PNEUMO_WINOGRAD_VERBOSE"] != nil {
            FileHandle.standardError.write(Data("winograd training \(key): \(variant.map { "\($0)" } ?? "direct")\n".utf8))
        }
        return variant
    }

    /// A shape's key among the decisions: the batch is not part of it (see above), the thread count is.
    static func key(_ kind: String, c: Int, k: Int, h: Int, w: Int) -> String { "\(kind)|\(c)|\(k)|\(h)|\(w)|\(DNNLContext.threadCount)" }

    /// The fastest of `direct` and `candidates` (median of 3 alternating rounds after one untimed call of each): a
    /// candidate only when at least `margin`× as fast as direct.
    private static func race<R>(_ candidates: [WinogradConv3x3.Variant], direct: () throws -> R,
                                winograd: (WinogradConv3x3.Variant) throws -> R) throws -> Choice {
        // Entry 0 is direct, entry i the candidate i − 1.
        func call(_ i: Int) throws { _ = try i == 0 ? direct() : winograd(candidates[i - 1]) }
        let entries = 0...candidates.count
        for i in entries { try call(i) }
        var times = [[Double]](repeating: [], count: entries.count)
        for _ in 0..<3 {
            for i in entries {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try call(i)
                times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0))
            }
        }
        let medians = times.map { $0.sorted()[1] }
        if ProcessInfo.processInfo.environment["PNEUMO_WINOGRAD_VERBOSE"] != nil {
            let named = ["direct"] + candidates.map(\.description)
            FileHandle.standardError.write(Data(("winograd training race: " + entries.map { String(format: "%@ %.3f ms", named[$0], medians[$0] / 1e6) }.joined(separator: ", ") + "\n").utf8))
        }
        guard let best = medians.indices.dropFirst().min(by: { medians[$0] < medians[$1] }),
              medians[0] >= margin * medians[best] else { return nil }
        return candidates[best - 1]
    }

    /// One call: the weights transformed and packed for `variant`, then the convolution.
    static func run(_ x: Tensor, weight: Tensor, bias: Tensor?, _ direction: Direction, variant: WinogradConv3x3.Variant,
                    ctx: DNNLContext) throws -> Tensor {
        let weight = weight.contiguous()
        let (k, c) = direction == .forward ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
        let input = x.converted(to: .channelsLast)
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let packed = weight.withUnsafeBufferPointer {
            packedWeights($0.baseAddress!, outChannels: k, inChannels: c, variant: variant, flipped: direction == .inputGradient)
        }
        let conv = try WinogradConv3x3(batch: n, height: h, width: w, inChannels: c, outChannels: k, packedWeights: packed,
                                       bias: bias.map { UnsafePointer($0.rawPointer.assumingMemoryBound(to: Float.self)) }, variant: variant,
                                       ctx: ctx)
        let workspace = AlignedBuffer(byteCount: conv.workspaceBytes)
        let out = Tensor(uninitialized: [n, k, h, w], layout: .channelsLast)
        try conv.run(input: input.rawPointer.assumingMemoryBound(to: Float.self), output: out.rawPointer.assumingMemoryBound(to: Float.self),
                     residual: nil, workspace: try conv.bind(workspace: workspace.pointer))
        withExtendedLifetime((input, bias, packed, workspace)) {}
        return out
    }

    /// `G g Gᵀ` of every 3×3 kernel, in float, laid out as our products read them (`[plane][K/16][C][16]`,
    /// `WinogradConv3x3.packedForStreaming`). `weight` is `[K, C, 3, 3]`; `flipped`: it is the forward weight `[C, K, 3, 3]`
    /// and the kernel for output channel `o` and input channel `i` is its `[i][o]` kernel turned by 180°, as the input
    /// gradient convolves with. Sixteen output channels at a time, one per vector lane; over the team by blocks of 16.
    static func packedWeights(_ weight: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int,
                              variant: WinogradConv3x3.Variant, flipped: Bool) -> AlignedBuffer {
        let n = variant.inputTile, planes = variant.planes, blocks = k / 16
        let g = (variant == .f2x2 ? WinogradF2x2.g : WinogradF4x4.g).map(Float.init)
        let packed = AlignedBuffer(byteCount: planes * k * c * 4)   // reused from `BufferPool` from the second step on
        let (src, dst) = (SendablePointer(weight), SendablePointer(packed.pointer.assumingMemoryBound(to: Float.self)))
        // Lane `o` of tap `t` lies at `base + o · laneStride + t · tapStride` of the source.
        let (laneStride, tapStride) = flipped ? (9, -1) : (c * 9, 1)
        _ = OpenMPParallel.all(count: blocks, minimumPerThread: 1) { range in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: n * 3) { buffer in
                let gw = buffer.baseAddress!
                for kb in range {
                    for ci in 0..<c {
                        // Forward: weight[o][ci][t]; flipped: weight[ci][o][8 − t].
                        let base = UnsafePointer(src.pointer) + (flipped ? (ci * k + kb * 16) * 9 + 8 : (kb * 16 * c + ci) * 9)
                        let tap = { (t: Int) in gather(base + t * tapStride, laneStride) }
                        let (t0, t1, t2, t3, t4, t5, t6, t7, t8) = (tap(0), tap(1), tap(2), tap(3), tap(4), tap(5), tap(6), tap(7), tap(8))
                        // G g (n×3), then (G g) Gᵀ (n×n).
                        for a in 0..<n {
                            let (r0, r1, r2) = (g[a * 3], g[a * 3 + 1], g[a * 3 + 2])
                            gw[a * 3] = r0 * t0 + r1 * t3 + r2 * t6
                            gw[a * 3 + 1] = r0 * t1 + r1 * t4 + r2 * t7
                            gw[a * 3 + 2] = r0 * t2 + r1 * t5 + r2 * t8
                        }
                        for a in 0..<n {
                            for b in 0..<n {
                                let u = gw[a * 3] * g[b * 3] + gw[a * 3 + 1] * g[b * 3 + 1] + gw[a * 3 + 2] * g[b * 3 + 2]
                                UnsafeMutableRawPointer(dst.pointer + (((a * n + b) * blocks + kb) * c + ci) * 16).storeBytes(of: u, as: SIMD16<Float>.self)
                            }
                        }
                    }
                }
            }
            return true
        }
        return packed
    }
}

extension WinogradConv3x3 {
    /// On weights transformed and packed for our products already (`TrainingWinograd.packedWeights`), chunked, no
    /// activation.
    convenience init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, packedWeights: AlignedBuffer,
                     bias: UnsafePointer<Float>?, variant: Variant, ctx: DNNLContext) throws {
        // `weight` is read only to make the packed weights, which `laidOut` hands over instead.
        try self.init(batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
                      weight: UnsafePointer(packedWeights.pointer.assumingMemoryBound(to: Float.self)), bias: bias, relu: false,
                      variant: variant, schedule: .chunked(tiles: nil), products: .avx2, ctx: ctx, laidOut: { _, _ in packedWeights })
    }
}

/// Sixteen floats `stride` apart, from `p` on, as one vector.
@inline(__always) private func gather(_ p: UnsafePointer<Float>, _ stride: Int) -> SIMD16<Float> {
    SIMD16(p[0], p[stride], p[2 * stride], p[3 * stride], p[4 * stride], p[5 * stride], p[6 * stride], p[7 * stride],
           p[8 * stride], p[9 * stride], p[10 * stride], p[11 * stride], p[12 * stride], p[13 * stride], p[14 * stride], p[15 * stride])
}
