import CDNNL
import CPUBackend
import GraphCore
import Foundation
import Synchronization

extension ConvolutionAlgorithm {
    /// Winograd F(2×2, 3×3) (`WinogradConv3x3`: Swift transforms, products by our AVX2 kernel or oneDNN's batched matmul) wherever it applies
    /// (3×3, stride-1, pad-1 convolutions, channel counts multiples of 16): the forced choice stays the most accurate
    /// variant (~1e-6 relative).
    public static let winograd = ConvolutionAlgorithm(named: "winograd")
    /// Winograd F(4×4, 3×3) wherever it applies (~1e-5 relative at 512 channels), for tests and benchmarks;
    /// `auto` takes it per shape where it is the fastest.
    public static let winograd4x4 = ConvolutionAlgorithm(named: "winograd4x4")
}

extension KernelFamily {
    /// Weighed whole at batch 1 only: its per-shape races with caches evicted can mislead there. Tried before the wide
    /// streaming family, which takes what Winograd leaves.
    static let winograd = KernelFamily(
        name: "winograd", forcedBy: [.winograd, .winograd4x4], rank: 1, weighedAt: { $0 == 1 }, owns: { $0 is WinogradConv3x3 },
        lowers: { b, c in
            guard c.activation == nil || c.activation == .relu,
                  let configuration = try b.winogradConfiguration(c.input, c.weight, c.attributes) else { return false }
            try b.winogradConv(c.node, residual: c.residual, relu: c.activation == .relu, result: c.result, step: c.step,
                               configuration: configuration)
            return true
        },
        counts: [KernelCount(name: "winograd", jsonKey: "winograd_convolutions", prefix: "winograd", style: .headline),
                 KernelCount(name: "f4x4", jsonKey: "winograd_f4x4_convolutions", prefix: WinogradConv3x3.Variant.f4x4.kernelName,
                             style: .whenAny(summary: nil, bench: { " (\($0) F(4×4))" }))])
}

/// The per-shape decisions of `ConvolutionAlgorithm.auto`, with the times they rest on.
enum WinogradChoice {
    typealias Configuration = WinogradConv3x3.Configuration

    struct Decision: Sendable, Codable, Equatable {
        let winograd: Configuration?
        let reason: String
    }

    private static let decisions = Mutex<[String: Decision]>([:])

    /// Winograd must beat direct by this factor, on average over two races, to be chosen: above the timing noise
    /// of a shared machine, so that a plan does not take shapes that are no faster in the whole model.
    static let margin = 1.2
    /// A shape whose first race is at least this close to `margin` gets the second race: requiring `margin` in each
    /// single race flips shapes that are truly just above it from compilation to compilation (`bench/README.md`,
    /// "Kernel decisions").
    static let confirmable = 1.1
    /// The largest difference from direct's output, relative to its largest magnitude, that a raced configuration may
    /// show: ten times the runtime's fp32 bound (`WinogradTests`), far below what a wrong result gives.
    static let maxRaceError = 1e-3

    /// Whether a raced configuration's output `error` (`WinogradConvBenchmark.race`'s `errors`) matched direct's.
    static func agrees(_ error: Double) -> Bool { error <= maxRaceError }

    /// Whether a configuration `first`× and then `second`× as fast as direct in its two races is kept.
    static func keeps(first: Double, second: Double) -> Bool {
        first >= confirmable && second >= confirmable && (first + second) / 2 >= margin
    }

    /// What is raced on an `height × width` map: both schedules of each variant worth racing there
    /// (`Variant.worthRacing`), each with every kind of products `raced` here.
    static func candidates(height: Int, width: Int, products raced: [WinogradConv3x3.Products] = WinogradConv3x3.Products.raced)
        -> [Configuration] {
        WinogradConv3x3.Variant.worthRacing(height: height, width: width).flatMap { v in
            [WinogradConv3x3.Schedule.chunked(tiles: nil), .whole].flatMap { s in raced.map { Configuration(v, s, products: $0) } }
        }
    }

    /// Bytes a race may allocate. Its input, outputs and each configuration's buffers are the convolution's own at the
    /// batch it races: on the baseline's 56×56×64 layers at batch 4000, F(2×2)'s whole schedule alone needs 16 planes ×
    /// 784 tiles × 128 channels × 4 bytes × 4000 images, about 26 GB.
    static let raceBudget = min(Double(ProcessInfo.processInfo.physicalMemory) / 4, 1e9)

    /// Bytes of a configuration's own buffers on `images` images: `.whole` keeps all tiles' planes of the input and of
    /// the products; `.chunked`, a chunk's per thread, whatever the batch.
    static func bufferBytes(_ configuration: Configuration, images: Int, channels c: Int, outChannels k: Int, height: Int, width: Int) -> Double {
        let v = configuration.variant
        let planes = Double(v.planes) * Double(c + k) * 4
        switch configuration.schedule {
        case .whole: return planes * Double(v.tiles(height: height, width: width)) * Double(images)
        case .chunked: return planes * Double(max(8, (64 << 10) / (v.planes * max(c, k))) * Int(omp_get_max_threads()))
        }
    }

    /// Bytes a race of `configurations` on `images` images holds at once: the input and direct output, and every
    /// configuration's output and buffers (`WinogradConvBenchmark` makes them all before timing).
    static func raceBytes(_ configurations: [Configuration], images: Int, channels c: Int, outChannels k: Int, height: Int, width: Int) -> Double {
        let map = Double(height * width) * 4 * Double(images)
        return map * Double(c + k) + configurations.reduce(0) {
            $0 + map * Double(k) + bufferBytes($1, images: images, channels: c, outChannels: k, height: height, width: width)
        }
    }

    /// What races, and on how many images: the candidates whose buffers fit `raceBudget` at this batch (the plan would
    /// carry them), on as many images as the budget holds for all of them at once (the time per image is what decides);
    /// nil when not one image fits.
    static func race(batch: Int, channels c: Int, outChannels k: Int, height: Int, width: Int) -> (configurations: [Configuration], batch: Int)? {
        let raced = candidates(height: height, width: width).filter {
            bufferBytes($0, images: batch, channels: c, outChannels: k, height: height, width: width) <= raceBudget
        }
        // Linear in the images: a fixed part (chunk buffers) and a part per image.
        let fixed = raceBytes(raced, images: 0, channels: c, outChannels: k, height: height, width: width)
        let perImage = raceBytes(raced, images: 1, channels: c, outChannels: k, height: height, width: width) - fixed
        let fits = (raceBudget - fixed) / perImage
        guard !raced.isEmpty, fits >= 1 else { return nil }
        return (raced, min(batch, Int(min(fits, Double(Int.max / 2)))))
    }

    static func key(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int, threads: Int) -> String {
        "\(batch)|\(channels)|\(outChannels)|\(height)|\(width)|\(threads)"
    }

    /// Takes `decision` for a shape as if a race had made it (tests give the slices of one plan other products).
    static func remember(_ decision: Decision, batch: Int, channels: Int, outChannels: Int, height: Int, width: Int, threads: Int) {
        let key = key(batch: batch, channels: channels, outChannels: outChannels, height: height, width: width, threads: threads)
        decisions.withLock { $0[key] = decision }
    }

    static func decide(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int) throws -> Decision {
        let threads = Int(omp_get_max_threads())
        let key = key(batch: batch, channels: channels, outChannels: outChannels, height: height, width: width, threads: threads)
        if let d = decisions.withLock({ $0[key] }) { return d }
        let cache = TuningCache.active
        if let d = cache?.winograd(key) {
            decisions.withLock { $0[key] = d }
            return d
        }
        let start = HostContention.read()
        // A race run on a busy machine serves this process only (`HostContention`).
        func decided(_ d: Decision, raced: Bool = true) -> Decision {
            let busy = raced ? HostContention.busyNote(since: start) : nil
            let d = busy.map { Decision(winograd: d.winograd, reason: d.reason + $0) } ?? d
            if busy == nil { cache?.record(winograd: key, d) }
            decisions.withLock { $0[key] = d }
            return d
        }
        guard let (raced, raceBatch) = race(batch: batch, channels: channels, outChannels: outChannels, height: height, width: width) else {
            return decided(Decision(winograd: nil, reason: String(format: "direct: a race at batch %d would take more than %.1f GB", batch, raceBudget / 1e9)), raced: false)
        }
        let t = try WinogradConvBenchmark.race(batch: raceBatch, channels: channels, outChannels: outChannels, height: height, width: width,
                                               configurations: raced)
        // Only configurations that computed what direct did may win (a wrong output can be fast).
        let best = t.winograd.indices.filter { agrees(t.errors[$0]) }.min { t.winograd[$0] < t.winograd[$1] }
        let first = best.map { t.direct / t.winograd[$0] } ?? 0
        var winograd = first >= confirmable ? best.map { raced[$0] } : nil
        var times = raced.indices.map { i in
            let time = String(format: "%@ %.3f ms", raced[i].description, t.winograd[i])
            return agrees(t.errors[i]) ? time : time + String(format: " (output off by %.1e: not taken)", t.errors[i])
        }.joined(separator: ", ")
        // A busy moment can make either look slow once: a winner must also win a second race, against direct
        // alone, by `margin` on average over both.
        if let w = winograd {
            let again = try WinogradConvBenchmark.race(batch: raceBatch, channels: channels, outChannels: outChannels, height: height,
                                                       width: width, configurations: [w])
            let second = again.direct / again.winograd[0]
            if !keeps(first: first, second: second) || !agrees(again.errors[0]) { winograd = nil }
            times += String(format: "; again: direct %.3f ms, %@ %.3f ms", again.direct, w.description, again.winograd[0])
        }
        let d = Decision(winograd: winograd, reason: (raceBatch < batch ? "raced at batch \(raceBatch): " : "")
                                                     + String(format: "direct %.3f ms, ", t.direct) + times)
        let kept = decided(d)
        if ProcessInfo.processInfo.environment["PNEUMO_WINOGRAD_VERBOSE"] != nil {
            FileHandle.standardError.write(Data("winograd auto N\(batch) C\(channels) K\(outChannels) \(height)×\(width), \(threads) threads: \(kept.reason) → \(winograd.map { "\($0)" } ?? "direct")\n".utf8))
        }
        return kept
    }
}

extension PlanBuilder {
    /// The Winograd variant and schedule for this fp32 convolution, or nil for the direct one.
    func winogradConfiguration(_ xs: [Int], _ ws: [Int], _ a: Conv2dAttributes) throws -> WinogradConv3x3.Configuration? {
        guard takes(.winograd), WinogradConv3x3.applies(input: xs, weight: ws, a) else { return nil }
        if convolutions == .winograd { return WinogradConv3x3.Configuration(.f2x2, winogradForcedSchedule) }
        if convolutions == .winograd4x4 { return WinogradConv3x3.Configuration(.f4x4, winogradForcedSchedule) }
        return try WinogradChoice.decide(batch: xs[0], channels: xs[1], outChannels: ws[0], height: xs[2], width: xs[3]).winograd
    }

    /// A Winograd step: its chunk buffers live in the plan's scratchpad (sized to the largest step's need).
    mutating func winogradConv(_ n: Int, residual: ValueID?, relu: Bool, result: Int, step: Int,
                               configuration: WinogradConv3x3.Configuration) throws {
        let (cache, ctx) = (sharedWeights, ctx)
        try arenaConv(n, residual: residual, result: result, step: step) { xs, ws, weightName, weight, bias, laidOut in
            try WinogradConv3x3(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: ws[0], weight: weight, bias: bias,
                                relu: relu, variant: configuration.variant, schedule: configuration.schedule,
                                products: configuration.products, ctx: ctx) { md, make in
                let b = try cache.buffer(weightName + "|" + configuration.variant.kernelName, md, make: make)
                laidOut.append(b)
                return b
            }
        }
    }
}
