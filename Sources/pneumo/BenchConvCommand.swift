import CPUBackend
import ArgumentParser
import Foundation
import NN

/// Our convolution forward against oneDNN alone on the same shape (the engine's per-call overhead).
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv", abstract: "Time one convolution forward through the engine and through oneDNN alone.")

    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Input and output channels.") var channels = 64
    @Option(help: "Height and width.") var size = 16
    @Option(help: "Kernel size.") var kernel = 3
    @Option(help: "Timed runs.") var runs = 50
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Time Winograd (F(2×2, 3×3); see --winograd-tile) against oneDNN's direct convolution (3×3, stride 1, pad 1; channels a multiple of 16).")
    var winograd = false
    @Option(help: ArgumentHelp("With --winograd: comma-separated output tiles, 2 for F(2×2, 3×3) and 4 for F(4×4, 3×3), one row each, timed in the same rounds.", valueName: "m"))
    var winogradTile = "2"

    @Option(help: ArgumentHelp("With --winograd: comma-separated products, avx2 (ours) and onednn (its batched matmul), one row each per tile, timed in the same rounds (default: the runtime's, avx2 where our kernels run AVX2).", valueName: "names"))
    var winogradProducts: String?

    /// `--winograd-tile` parsed (empty when any item is not an integer).
    var outputTiles: [Int] { CommaList.parse(winogradTile) { Int($0) } ?? [] }
    @Option(help: "With --winograd: tiles per chunk (0: one chunk, each pass on the whole team; default: sized to the cache).")
    var tilesPerChunk: Int?
    @Flag(help: "With --winograd: evict the caches (64 MiB written) before each timed call, as weights are in a whole model.")
    var cold = false

    func validate() throws {
        guard batch > 0, channels > 0, size >= (winograd ? 1 : kernel), kernel > 0, runs > 0 else {
            throw ValidationError("--batch, --channels, --kernel and --runs must be positive and --size at least --kernel (1 with --winograd)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive, got \(threads)") }
        if winograd && (kernel != 3 || channels % 16 != 0) {
            throw ValidationError("--winograd needs --kernel 3 and --channels a multiple of 16")
        }
        if let tilesPerChunk, tilesPerChunk < 0 { throw ValidationError("--tiles-per-chunk must be 0 or positive") }
        guard !outputTiles.isEmpty, outputTiles.allSatisfy({ $0 == 2 || $0 == 4 }) else {
            throw ValidationError("--winograd-tile must be 2, 4 or both comma-separated, got '\(winogradTile)'")
        }
        if let winogradProducts {
            let names = WinogradConv3x3.Products.allCases.map(\.rawValue)
            guard let list = CommaList.parse(winogradProducts, { names.contains($0) ? $0 : nil }), !list.isEmpty else {
                throw ValidationError("--winograd-products must be \(names.joined(separator: ", ")) or several comma-separated, got '\(winogradProducts)'")
            }
        }
    }

    func run() throws {
        ThreadCount.apply(threads)
        if winograd {
            let rows = try WinogradConvBenchmark.run(batch: batch, channels: channels, height: size, width: size,
                                                     outputTiles: outputTiles, products: winogradProducts.flatMap { CommaList.parse($0) { $0 } },
                                                     tilesPerChunk: tilesPerChunk, runs: runs, cold: cold)
            if json { print(rows.count == 1 ? try rows[0].jsonString() : try rows.jsonString()); return }
            for r in rows {
                let m = WinogradConv3x3.Variant(rawValue: r.variant)!.outputTile
                print(String(format: "winograd F(%d×%d, 3×3) N%d C=K=%d %d×%d, %d threads: direct %.3f ms (%@), winograd %.3f ms (%@, %@, %d tiles, "
                             + "%d per chunk), speedup %.2f×, max rel err %.1e%@", m, m, batch, channels, size, size, CPUDevice.threadCount,
                             r.direct_ms, r.direct_implementation, r.winograd_ms, r.matmul_implementation, r.schedule, r.tiles, r.tiles_per_chunk,
                             r.speedup, r.max_relative_error, cold ? ", cold caches" : ""))
            }
            return
        }
        var rng = SeededRandom(seed: 0)
        let x = Tensor.randomNormal([batch, channels, size, size], using: &rng)
        let w = Tensor.randomNormal([channels, channels, kernel, kernel], std: 0.05, using: &rng)
        let r = try DNNLConvBenchmark.run(x: x, weight: w, bias: nil, Conv2dAttributes(padding: Pair(kernel / 2)), runs: runs)
        if json { print(try r.jsonString()); return }
        print("""
            conv \(kernel)×\(kernel), N\(batch) C=K=\(channels) \(size)×\(size), \(CPUDevice.threadCount) threads (\(r.implementation))
              engine   \(String(format: "%.3f", r.ours_ms)) ms median (\(String(format: "%.1f", r.gflops_per_s)) GFLOP/s)
              oneDNN   \(String(format: "%.3f", r.onednn_ms)) ms median (primitive, weights and memory prepared once)
              engine speed = \(String(format: "%.0f", r.speed_ratio * 100))% of oneDNN's
            """)
    }
}
