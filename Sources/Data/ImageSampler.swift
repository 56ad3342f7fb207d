import Foundation

/// Bilinear resampling of one HWC byte image into float CHW planes under a resize and an `ImageTransform`.
///
/// For output pixel (x, y) of an `outW × outH` image the source position is found by inverting the
/// transform around the centres, then scaling to the input:
/// ```
/// (u, v)   = (x + ½ − outW/2 − shiftX,  y + ½ − outH/2 − shiftY)      (u negated when flipped)
/// (u', v') = R(−θ) (u, v) / scale
/// (sx, sy) = (u' · inW/outW + inW/2 − ½,  v' · inH/outH + inH/2 − ½)
/// ```
/// With no transform this is PyTorch's `interpolate(mode="bilinear", align_corners=False)`: positions
/// within half a pixel of the border clamp to the edge. Positions further out (uncovered by a rotation
/// or shift) are black (0), like torchvision's `RandomAffine(fill=0)`, or with `fillWithEdges` the nearest
/// edge pixel (clamped coordinates, like `padding_mode="border"`).
struct ImageSampler {
    let inWidth: Int, inHeight: Int, channels: Int
    let outWidth: Int, outHeight: Int

    /// Writes `channels` planes of `outH × outW` values in [0, 1] to `out` (plane stride `outH·outW`).
    func sample(_ image: UnsafeBufferPointer<UInt8>, _ t: ImageTransform, into out: UnsafeMutablePointer<Float>) {
        let plane = outWidth * outHeight
        if t.isGeometricIdentity, inWidth == outWidth, inHeight == outHeight {
            copy(image, into: out)
            t.adjustExposure(out, count: channels * plane)
            return
        }
        defer { t.adjustExposure(out, count: channels * plane) }
        let radians = Double(t.rotationDegrees) * .pi / 180
        let (c, s) = (Float(cos(radians)) / t.scale, Float(sin(radians)) / t.scale)
        let kx = Float(inWidth) / Float(outWidth), ky = Float(inHeight) / Float(outHeight)
        let maxX = Float(inWidth) - 0.5, maxY = Float(inHeight) - 0.5
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                var u = Float(x) + 0.5 - Float(outWidth) / 2 - t.shiftX
                let v = Float(y) + 0.5 - Float(outHeight) / 2 - t.shiftY
                if t.flip { u = -u }
                let sx = (c * u + s * v) * kx + Float(inWidth) / 2 - 0.5
                let sy = (-s * u + c * v) * ky + Float(inHeight) / 2 - 0.5
                let o = y * outWidth + x
                guard t.fillWithEdges || (sx >= -0.5 && sx <= maxX && sy >= -0.5 && sy <= maxY) else {
                    for ch in 0..<channels { out[ch * plane + o] = 0 }
                    continue
                }
                let cx = min(max(sx, 0), Float(inWidth - 1)), cy = min(max(sy, 0), Float(inHeight - 1))
                let x0 = Int(cx), y0 = Int(cy)
                let x1 = min(x0 + 1, inWidth - 1), y1 = min(y0 + 1, inHeight - 1)
                let fx = cx - Float(x0), fy = cy - Float(y0)
                for ch in 0..<channels {
                    let p00 = Float(image[(y0 * inWidth + x0) * channels + ch])
                    let p01 = Float(image[(y0 * inWidth + x1) * channels + ch])
                    let p10 = Float(image[(y1 * inWidth + x0) * channels + ch])
                    let p11 = Float(image[(y1 * inWidth + x1) * channels + ch])
                    let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx
                    out[ch * plane + o] = (top + (bottom - top) * fy) / 255
                }
            }
        }
    }

    /// The no-resample case: HWC bytes to CHW floats.
    private func copy(_ image: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        let plane = outWidth * outHeight
        for p in 0..<plane {
            for ch in 0..<channels { out[ch * plane + p] = Float(image[p * channels + ch]) / 255 }
        }
    }
}
