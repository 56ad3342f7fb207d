import GraphCore

/// Turns uint8 images into the float32 NCHW tensors a model takes.
///
/// Per image: bytes / 255 → optional augmentation and resize (one bilinear pass, `ImageSampler`) →
/// channel adaptation → `(x − mean) / std`. The defaults, mean 0.5 and std 0.5, are MedMNIST's standard
/// `Normalize(mean=[.5], std=[.5])`, mapping [0, 1] to [−1, 1].
public struct Preprocessing: Sendable, Equatable {
    /// Output side length; nil keeps the file's size.
    public let size: Int?
    /// Channels the model wants: 1, or 3 (grayscale replicated, as for ImageNet-shaped backbones).
    public let channels: Int
    public let mean: Float
    public let std: Float

    public init(size: Int? = nil, channels: Int = 1, mean: Float = 0.5, std: Float = 0.5) throws {
        guard channels == 1 || channels == 3 else {
            throw DataError(.invalidArgument, file: "preprocessing", "channels must be 1 or 3, got \(channels)")
        }
        guard size.map({ $0 > 0 && $0 <= 4096 }) ?? true else {
            throw DataError(.invalidArgument, file: "preprocessing", "size must be in 1…4096, got \(size!)")
        }
        guard std > 0, std.isFinite, mean.isFinite else {
            throw DataError(.invalidArgument, file: "preprocessing", "std must be positive and finite, got mean \(mean), std \(std)")
        }
        self.size = size
        self.channels = channels
        self.mean = mean
        self.std = std
    }

    /// `[channels, H, W]` of one preprocessed image of `data`.
    public func imageShape(for data: ImageSplit) -> [Int] {
        [channels, size ?? data.height, size ?? data.width]
    }

    /// Images `indices` of `data` as a `[indices.count, C, H, W]` tensor. With `augmentation`, each image
    /// gets its own random transform drawn from `rng` in index order.
    public func images(_ data: ImageSplit, indices: [Int], augmentation: Augmentation? = nil,
                       rng: inout SeededRandom) -> Tensor {
        images(data, indices: indices, augmentation: augmentation, fixed: .identity, rng: &rng)
    }

    func images(_ data: ImageSplit, indices: [Int], augmentation: Augmentation?, fixed: ImageTransform,
                rng: inout SeededRandom) -> Tensor {
        precondition(indices.allSatisfy { (0..<data.count).contains($0) }, "image index outside 0..<\(data.count)")
        let shape = imageShape(for: data)
        let (outH, outW) = (shape[1], shape[2])
        let plane = outH * outW
        let sampler = ImageSampler(inWidth: data.width, inHeight: data.height, channels: data.channels,
                                   outWidth: outW, outHeight: outH)
        var tensor = Tensor(uninitialized: [indices.count] + shape)
        var scratch = [Float](repeating: 0, count: data.channels * plane)
        let scale = 1 / std, shift = -mean / std
        data.pixels.withUnsafeBufferPointer { pixels in
            tensor.withUnsafeMutableBufferPointer { out in
                for (b, index) in indices.enumerated() {
                    let transform = augmentation?.sample(width: outW, height: outH, using: &rng) ?? fixed
                    let image = UnsafeBufferPointer(rebasing: pixels[(index * data.imageSize)..<((index + 1) * data.imageSize)])
                    scratch.withUnsafeMutableBufferPointer { sampler.sample(image, transform, into: $0.baseAddress!) }
                    let base = b * channels * plane
                    for ch in 0..<channels {
                        for p in 0..<plane {
                            out[base + ch * plane + p] = value(scratch, channel: ch, pixel: p, plane: plane,
                                                               inputChannels: data.channels) * scale + shift
                        }
                    }
                }
            }
        }
        return tensor
    }

    /// Up to `count` images spread evenly through `data` (both classes and every part of the file, not the
    /// first few): what calibration samples.
    public func images(_ data: ImageSplit, evenlySpaced count: Int) -> Tensor {
        let n = min(count, data.count)
        return images(data, indices: (0..<n).map { $0 * data.count / n })
    }

    /// Images without augmentation (evaluation).
    public func images(_ data: ImageSplit, indices: [Int]) -> Tensor {
        var unused = SeededRandom(seed: 0)
        return images(data, indices: indices, augmentation: nil, rng: &unused)
    }

    /// Images under one fixed transform (test-time augmentation).
    public func images(_ data: ImageSplit, indices: [Int], transform: ImageTransform) -> Tensor {
        var unused = SeededRandom(seed: 0)
        return images(data, indices: indices, augmentation: nil, fixed: transform, rng: &unused)
    }

    /// Output channel `channel` from the sampled input planes: a copy, a replication of gray, or RGB to
    /// luma with ITU-R 601 weights (what PIL's `convert("L")` uses).
    @inline(__always)
    private func value(_ planes: [Float], channel: Int, pixel p: Int, plane: Int, inputChannels: Int) -> Float {
        if inputChannels == channels { return planes[channel * plane + p] }
        if inputChannels == 1 { return planes[p] }
        return 0.299 * planes[p] + 0.587 * planes[plane + p] + 0.114 * planes[2 * plane + p]
    }
}
