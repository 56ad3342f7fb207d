/// Resampling filters of PIL's `Image.resize`, reproduced from Pillow's `Resample.c` so that an image resized
/// here equals, byte for byte, the same image resized by PIL (the dataset's builders used PIL).
///
/// PIL resizes in two separable passes, horizontal then vertical, each a convolution whose kernel is
/// stretched by the scale factor when downscaling (so it averages every input pixel: antialiased), with
/// 8-bit samples: weights in fixed point with 22 fraction bits, each pass rounded and clipped to 0…255.
public enum ResampleFilter: String, Sendable, CaseIterable {
    /// Area average (`Image.Resampling.BOX`).
    case box
    /// Triangle (`BILINEAR`), support 1.
    case bilinear
    /// Keys cubic with a = −0.5 (`BICUBIC`), support 2. PIL's default for `resize` since Pillow 7.
    case bicubic

    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear: 1
        case .bicubic: 2
        }
    }

    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(x)
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5, x = abs(x)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// One pass's kernels: output sample `i` is Σₖ `weights[i·taps + k]` · input[`first[i]` + k], k < `count[i]`.
struct ResampleKernels {
    static let precisionBits = 32 - 8 - 2
    let taps: Int
    let first: [Int]
    let count: [Int]
    let weights: [Int32]

    /// Pillow's `precompute_coeffs` then `normalize_coeffs_8bpc`, over the whole input (`box` = 0…inSize).
    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        taps = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize), count = first
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        let one = Double(1 << Self.precisionBits)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)     // C's (int) truncation, as in Pillow
            let n = min(Int(center + support + 0.5), inSize) - lo
            var sum = 0.0
            for j in 0..<taps { k[j] = 0 }
            for j in 0..<max(n, 0) {
                k[j] = filter.weight((Double(j + lo) - center + 0.5) / filterScale)
                sum += k[j]
            }
            for j in 0..<max(n, 0) {
                let w = sum != 0 ? k[j] / sum : k[j]
                weights[i * taps + j] = Int32(w < 0 ? (-0.5 + w * one) : (0.5 + w * one))   // truncates toward 0
            }
            first[i] = lo; count[i] = max(n, 0)
        }
        self.first = first; self.count = count; self.weights = weights
    }

    @inline(__always)
    static func clip8(_ v: Int) -> UInt8 {
        if v >= (1 << precisionBits) << 8 { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> precisionBits)
    }
}

extension GrayImage {
    /// The image resized to `width × height` as PIL's `Image.resize((width, height), filter)` does for mode "L".
    ///
    /// # Shapes
    /// `self`: H × W → H′ × W′ = `height` × `width`. Cost: H·W′·taps + H′·W′·taps multiply-adds, taps ≈ 2·support·scale.
    public func resized(width outW: Int, height outH: Int, filter: ResampleFilter = .bicubic) -> GrayImage {
        precondition(outW > 0 && outH > 0, "resized: size must be positive, got \(outW)×\(outH)")
        var image = self
        if outW != width {   // horizontal pass first, as PIL
            let k = ResampleKernels(inSize: width, outSize: outW, filter: filter)
            var out = [UInt8](repeating: 0, count: outW * height)
            image.pixels.withUnsafeBufferPointer { src in
                k.weights.withUnsafeBufferPointer { wt in
                    for y in 0..<height {
                        let row = y * width
                        for x in 0..<outW {
                            var acc = 1 << (ResampleKernels.precisionBits - 1)
                            let base = row + k.first[x], kb = x * k.taps
                            for j in 0..<k.count[x] { acc += Int(src[base + j]) * Int(wt[kb + j]) }
                            out[y * outW + x] = ResampleKernels.clip8(acc)
                        }
                    }
                }
            }
            image = GrayImage(width: outW, height: height, pixels: out)
        }
        if outH != height {
            let k = ResampleKernels(inSize: height, outSize: outH, filter: filter)
            var out = [UInt8](repeating: 0, count: outW * outH)
            image.pixels.withUnsafeBufferPointer { src in
                k.weights.withUnsafeBufferPointer { wt in
                    for y in 0..<outH {
                        let kb = y * k.taps, top = k.first[y]
                        for x in 0..<outW {
                            var acc = 1 << (ResampleKernels.precisionBits - 1)
                            for j in 0..<k.count[y] { acc += Int(src[(top + j) * outW + x]) * Int(wt[kb + j]) }
                            out[y * outW + x] = ResampleKernels.clip8(acc)
                        }
                    }
                }
            }
            image = GrayImage(width: outW, height: outH, pixels: out)
        }
        return image
    }

    /// The `width × height` region whose top-left pixel is (`x`, `y`), as PIL's `crop((x, y, x + width, y + height))`
    /// within the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> GrayImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "cropped: (\(x), \(y)) \(w)×\(h) is not inside \(width)×\(height)")
        var out = [UInt8](repeating: 0, count: w * h)
        for row in 0..<h {
            let src = (y + row) * width + x
            out.replaceSubrange(row * w..<(row + 1) * w, with: pixels[src..<src + w])
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// The largest centred square: side min(W, H), offset ⌊(W − side)/2⌋ or ⌊(H − side)/2⌋ (the usual PIL
    /// recipe; MedMNIST says only "center-crop with a window of the short edge").
    public func centerCroppedSquare() -> GrayImage {
        let side = min(width, height)
        if width == height { return self }
        return cropped(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
    }
}
