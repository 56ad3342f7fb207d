import GraphCore

/// A chest X-ray file made into the input a PneumoniaMNIST model was trained on.
///
/// MedMNIST built PneumoniaMNIST (and its 64/128/224 MedMNIST+ sizes) by center-cropping each source image to
/// a square of its short side and resizing that square to the target size. MedMNIST does not name the
/// resampling filter; this uses PIL's `resize` default, antialiased bicubic (see `ResampleFilter`), which
/// is what a PIL-based pipeline calling `resize(size)` gets. Then, as `Data.Preprocessing` does for the
/// dataset's own bytes: x = (byte / 255 − mean) / std with MedMNIST's mean 0.5, std 0.5, and gray replicated
/// when the model takes 3 channels.
public struct MedMNISTPreprocessing: Sendable, Equatable {
    /// Output side in pixels (the model's `input_size`).
    public let size: Int
    /// Channels the model takes: 1, or 3 (gray replicated).
    public let channels: Int
    public let filter: ResampleFilter
    public let mean: Float
    public let std: Float

    public init(size: Int, channels: Int = 1, filter: ResampleFilter = .bicubic, mean: Float = 0.5, std: Float = 0.5) throws {
        guard size > 0, size <= 4096 else { throw EngineError.invalid("preprocessing", "size must be in 1…4096, got \(size)") }
        guard channels == 1 || channels == 3 else {
            throw EngineError.invalid("preprocessing", "channels must be 1 or 3, got \(channels)")
        }
        guard std > 0, std.isFinite, mean.isFinite else {
            throw EngineError.invalid("preprocessing", "std must be positive and finite, got mean \(mean), std \(std)")
        }
        self.size = size; self.channels = channels; self.filter = filter; self.mean = mean; self.std = std
    }

    /// Center crop to the short side, then resize to `size × size`.
    public func resample(_ image: GrayImage) -> GrayImage {
        let square = image.centerCroppedSquare()
        return square.width == size ? square : square.resized(width: size, height: size, filter: filter)
    }

    /// `[images.count, channels, size, size]`, normalised.
    public func tensor(_ images: [GrayImage]) -> Tensor {
        let plane = size * size
        var tensor = Tensor(uninitialized: [images.count, channels, size, size])
        let scale = 1 / std, shift = -mean / std
        tensor.withUnsafeMutableBufferPointer { out in
            for (b, image) in images.enumerated() {
                let small = resample(image)
                for ch in 0..<channels {
                    let base = (b * channels + ch) * plane
                    for p in 0..<plane { out[base + p] = Float(small.pixels[p]) / 255 * scale + shift }
                }
            }
        }
        return tensor
    }

    /// `[1, channels, size, size]` for one image.
    public func tensor(_ image: GrayImage) -> Tensor { tensor([image]) }
}
