/// Index arithmetic shared by the reference kernels: which input element meets which weight for each
/// output element. Row-major NCHW throughout.
struct ConvGeometry {
    let n, c, h, w, k, kh, kw, ho, wo: Int
    let a: Conv2dAttributes
    var outPlane: Int { ho * wo }

    init(_ x: [Int], _ weight: [Int], _ out: [Int], _ a: Conv2dAttributes) {
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (k, kh, kw) = (weight[0], weight[2], weight[3])
        (ho, wo) = (out[2], out[3])
        self.a = a
    }

    /// Calls `body(outputIndex, inputIndex, weightIndex)` for every multiply of the convolution.
    func forEachTap(_ body: (Int, Int, Int) -> Void) {
        let cg = c / a.groups, kg = k / a.groups
        for b in 0..<n { for oc in 0..<k {
            let group = oc / kg
            for oy in 0..<ho { for ox in 0..<wo {
                let o = ((b * k + oc) * ho + oy) * wo + ox
                for ic in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                    let iy = oy * a.stride.h - a.padding.h + ky * a.dilation.h
                    let ix = ox * a.stride.w - a.padding.w + kx * a.dilation.w
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let channel = group * cg + ic
                    body(o, ((b * c + channel) * h + iy) * w + ix, ((oc * cg + ic) * kh + ky) * kw + kx)
                } } }
            } }
        } }
    }
}

struct PoolGeometry {
    let n, c, h, w, ho, wo: Int
    let a: Pool2dAttributes

    init(_ x: [Int], _ out: [Int], _ a: Pool2dAttributes) {
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (ho, wo) = (out[2], out[3])
        self.a = a
    }

    /// Calls `body(outputIndex, inputIndex)` for every window position; `nil` for a padded position.
    func forEachWindowTap(_ body: (Int, Int?) -> Void) {
        for plane in 0..<(n * c) { for oy in 0..<ho { for ox in 0..<wo {
            let o = (plane * ho + oy) * wo + ox
            for ky in 0..<a.kernel.h { for kx in 0..<a.kernel.w {
                let iy = oy * a.stride.h - a.padding.h + ky, ix = ox * a.stride.w - a.padding.w + kx
                body(o, iy >= 0 && iy < h && ix >= 0 && ix < w ? (plane * h + iy) * w + ix : nil)
            } }
        } } }
    }
}

/// PyTorch's bilinear sampling with `align_corners=False`: source coordinate
/// `(dst + 0.5) · in/out − 0.5`, clamped below at 0, neighbours clamped at the edge.
package struct BilinearGeometry {
    let planes, h, w, ho, wo: Int

    init(inputShape: [Int], height: Int, width: Int) {
        planes = inputShape[0] * inputShape[1]
        (h, w, ho, wo) = (inputShape[2], inputShape[3], height, width)
    }

    /// For one axis: the two source indices and their weights for each output index.
    package static func axisTaps(inSize: Int, outSize: Int) -> [(Int, Int, Float, Float)] {
        let scale = Float(inSize) / Float(outSize)
        return (0..<outSize).map { d in
            let src = max((Float(d) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(src), inSize - 1)
            let i1 = min(i0 + 1, inSize - 1)
            let l1 = src - Float(i0)
            return (i0, i1, 1 - l1, l1)
        }
    }

    /// Calls `body(outputIndex, inputIndex, weight)` for the four taps of every output element.
    func forEachTap(_ body: (Int, Int, Float) -> Void) {
        let ys = Self.axisTaps(inSize: h, outSize: ho), xs = Self.axisTaps(inSize: w, outSize: wo)
        for p in 0..<planes { for oy in 0..<ho { for ox in 0..<wo {
            let o = (p * ho + oy) * wo + ox
            let (y0, y1, wy0, wy1) = ys[oy], (x0, x1, wx0, wx1) = xs[ox]
            let base = p * h * w
            body(o, base + y0 * w + x0, wy0 * wx0)
            body(o, base + y0 * w + x1, wy0 * wx1)
            body(o, base + y1 * w + x0, wy1 * wx0)
            body(o, base + y1 * w + x1, wy1 * wx1)
        } } }
    }
}
