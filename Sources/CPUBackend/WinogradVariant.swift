import CKernels
import GraphCore
extension WinogradConv3x3 {
    /// Which Winograd algorithm F(m×m, 3×3): `m×m` outputs per tile from an `(m+2)×(m+2)` input tile, by
    /// `(m+2)²` products per channel pair instead of `9m²`.
    package enum Variant: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
        /// F(2×2, 3×3): 16 products for 4 outputs (2.25× fewer than direct); adds ~1e-6 relative error.
        case f2x2
        /// F(4×4, 3×3): 36 products for 16 outputs (4× fewer); ~1e-5 relative error at 512 channels.
        case f4x4

        /// `m`, the side of an output tile.
        package var outputTile: Int { self == .f2x2 ? 2 : 4 }
        /// `m + 2`, the side of an input tile.
        package var inputTile: Int { outputTile + 2 }
        /// `(m + 2)²`: transformed planes, hence batched GEMMs.
        package var planes: Int { inputTile * inputTile }
        /// Output tiles covering an `height × width` map, per image.
        package func tiles(height: Int, width: Int) -> Int {
            ((height + outputTile - 1) / outputTile) * ((width + outputTile - 1) / outputTile)
        }
        /// What is worth racing on an `height × width` map: F(2×2, 3×3), and F(4×4, 3×3) where its tiles take fewer
        /// products (`36⌈H/4⌉⌈W/4⌉ < 16⌈H/2⌉⌈W/2⌉`; not on 1×1 or 2×2 maps, where its tiles are mostly padding).
        package static func worthRacing(height: Int, width: Int) -> [Variant] {
            let products = { (v: Variant) in v.planes * v.tiles(height: height, width: width) }
            return allCases.filter { $0 == .f2x2 || products($0) < products(.f2x2) }
        }
        /// The name plans report (`winograd_f4x3+matmul:…`): F(m, 3) in the 1-D notation.
        package var kernelName: String { self == .f2x2 ? "winograd_f2x3" : "winograd_f4x3" }
        package var description: String { self == .f2x2 ? "F(2×2, 3×3)" : "F(4×4, 3×3)" }
    }
}

/// What differs between Winograd variants: the transforms, as straight-line SIMD16 code over 16 channels, which
/// `winograd_transforms.c` repeats in C for AVX2 and AVX-512 (where our kernels run, those run instead). Everything else
/// (tiles, chunks, matmul, epilogue) is `WinogradConv3x3`'s.
protocol WinogradTransforms {
    /// `m`: the output tile's side; the input tile's is `m + 2`.
    static var outputTile: Int { get }
    /// `G`, `(m+2) × 3` row-major: `U = G g Gᵀ`.
    static var g: [Double] { get }
    /// `Bᵀ d B` of one input tile: `d[a][b]` at `d[a·(m+2) + b] + offset` (a zero vector outside the map); plane
    /// `e = a·(m+2) + b` of the result to `dst + e·planeStride`. `scratch`: `(m+2)²` vectors.
    static func input(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>, planeStride: Int,
                      scratch: UnsafeMutablePointer<SIMD16<Float>>)
    /// `Aᵀ M A` of one tile: `M[e]` at `src + e·planeStride`; output `(a, b)` of the `m × m` tile to `put(a, b, value)`.
    /// `scratch`: `m·(m+2)` vectors.
    static func output(_ src: UnsafePointer<Float>, planeStride: Int, scratch: UnsafeMutablePointer<SIMD16<Float>>,
                       put: (Int, Int, SIMD16<Float>) -> Void)
    /// `A y Aᵀ` of one output-gradient tile, the transpose of `output` (the weight gradient's transform): `y[a][b]` at
    /// `d[a·m + b] + offset` (a zero vector outside the map); plane `e` of the result to `dst + e·planeStride`.
    /// `scratch`: `m·(m+2)` vectors.
    static func outputGradient(_ d: UnsafePointer<UnsafePointer<Float>>, offset: Int, to dst: UnsafeMutablePointer<Float>,
                               planeStride: Int, scratch: UnsafeMutablePointer<SIMD16<Float>>)
}

extension WinogradTransforms {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func store(_ value: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD16<Float>.self)
    }
}

extension WinogradTransforms {
    /// `V[e][t - first][c] = (Bᵀ d B)[e]` for the tiles `r` of an NHWC `height × width × channels` map, plane `e` at
    /// `v + e·planeStride`. Each tile reads its inputs through a table of pixel pointers, a zero vector standing for
    /// those outside the map: edge tiles take the interior's path.
    /// `isa`: our C build of it (`winograd_transforms.c`), at the CPU's vector width; nil: the Swift code here.
    static func transformInput(_ input: UnsafePointer<Float>, height h: Int, width w: Int, channels c: Int, tiles r: Range<Int>,
                               first: Int, planeStride: Int, to v: UnsafeMutablePointer<Float>, isa: KernelISA? = KernelISA.best) {
        if let isa {
            return pneumo_winograd_input(isa.code, Int32(outputTile), input, Int64(h), Int64(w), Int64(c), Int64(r.lowerBound),
                                         Int64(r.upperBound), Int64(first), Int64(planeStride), v)
        }
        forEachTile(input, height: h, width: w, channels: c, tiles: r, side: outputTile + 2, origin: -1) { t, d, scratch in
            let dst = v + (t - first) * c
            for cb in stride(from: 0, to: c, by: 16) {
                Self.input(d, offset: cb, to: dst + cb, planeStride: planeStride, scratch: scratch)
            }
        }
    }

    /// `dM[e][t - first][k] = (A dY Aᵀ)[e]` for the tiles `r` of an NHWC output gradient (`height × width × channels`),
    /// outputs outside the map reading as zeros. `isa` as for `transformInput`.
    static func transformOutputGradient(_ gradient: UnsafePointer<Float>, height h: Int, width w: Int, channels k: Int,
                                        tiles r: Range<Int>, first: Int, planeStride: Int, to dm: UnsafeMutablePointer<Float>,
                                        isa: KernelISA? = KernelISA.best) {
        if let isa {
            return pneumo_winograd_output_gradient(isa.code, Int32(outputTile), gradient, Int64(h), Int64(w), Int64(k),
                                                   Int64(r.lowerBound), Int64(r.upperBound), Int64(first), Int64(planeStride), dm)
        }
        forEachTile(gradient, height: h, width: w, channels: k, tiles: r, side: outputTile, origin: 0) { t, d, scratch in
            let dst = dm + (t - first) * k
            for kb in stride(from: 0, to: k, by: 16) {
                outputGradient(d, offset: kb, to: dst + kb, planeStride: planeStride, scratch: scratch)
            }
        }
    }

    /// Calls `body(t, pixels, scratch)` for each tile `t` of `r`: `pixels[a·side + b]` points at pixel
    /// `(m·i + origin + a, m·j + origin + b)` of the tile's image, or at a row of `channels` zeros outside the map;
    /// `scratch` holds `(m+2)²` vectors.
    @inline(__always) private static func forEachTile(
        _ map: UnsafePointer<Float>, height h: Int, width w: Int, channels c: Int, tiles r: Range<Int>, side: Int, origin: Int,
        _ body: (Int, UnsafePointer<UnsafePointer<Float>>, UnsafeMutablePointer<SIMD16<Float>>) -> Void
    ) {
        let m = outputTile, n = outputTile + 2
        let tilesHigh = (h + m - 1) / m, tilesWide = (w + m - 1) / m
        withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { zeros in
            zeros.initialize(repeating: 0)
            let zero = UnsafePointer(zeros.baseAddress!)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: side * side) { pixels in
                let d = pixels.baseAddress!
                withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: n * n) { scratch in
                    for t in r {
                        let (img, i, j) = (t / (tilesHigh * tilesWide), t / tilesWide % tilesHigh, t % tilesWide)
                        let y0 = m * i + origin, x0 = m * j + origin
                        for a in 0..<side {
                            let y = y0 + a, row = map + (img * h + y) * w * c
                            for b in 0..<side {
                                let x = x0 + b
                                d[a * side + b] = y >= 0 && y < h && x >= 0 && x < w ? row + x * c : zero
                            }
                        }
                        body(t, d, scratch.baseAddress!)
                    }
                }
            }
        }
    }
}
