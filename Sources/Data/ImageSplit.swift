import GraphCore

/// The images and labels of one split, validated against each other and the task.
///
/// # Layout
/// `pixels` holds `count × height × width × channels` bytes in NHWC order, exactly as MedMNIST stores
/// them (grayscale files have `channels == 1`); conversion to float NCHW happens per batch in
/// `Preprocessing`, so a 224-pixel training set stays at one byte per pixel in memory.
public struct ImageSplit: Sendable, Equatable {
    public let split: Split
    public let count: Int
    public let height: Int
    public let width: Int
    public let channels: Int
    public let pixels: [UInt8]
    /// Class index per image, each in `0..<classCount`.
    public let labels: [Int]
    public let classCount: Int

    /// Bytes per image.
    public var imageSize: Int { height * width * channels }

    /// Checks what the arrays must agree on; `file` labels errors.
    public init(split: Split, height: Int, width: Int, channels: Int, pixels: [UInt8], labels: [Int],
                classCount: Int, file: String = "<memory>") throws {
        guard height > 0, width > 0, channels == 1 || channels == 3 else {
            throw DataError(.mismatch, file: file, item: "\(split.rawValue)_images",
                            "images must be H×W with 1 or 3 channels, got \(height)×\(width)×\(channels)")
        }
        guard pixels.count == labels.count * height * width * channels else {
            throw DataError(.mismatch, file: file, item: "\(split.rawValue)_images",
                            "\(pixels.count / (height * width * channels)) images but \(labels.count) labels")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw DataError(.mismatch, file: file, item: "\(split.rawValue)_labels",
                            "label \(labels[bad]) at index \(bad) is outside 0..<\(classCount) for this task")
        }
        self.split = split
        self.count = labels.count
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
        self.classCount = classCount
    }

    /// The bytes of image `index` (HWC).
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[(index * imageSize)..<((index + 1) * imageSize)]
    }

    /// All labels as a `[count]` Float tensor of class indices (the loss's and metrics' form).
    public var labelTensor: Tensor {
        try! Tensor(shape: [count], scalars: labels.map(Float.init))  // count == labels.count by construction
    }

    /// Number of images per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }
}

extension ImageSplit {
    /// The first `n` images (the spec's `subset_size`, for quick runs).
    public func prefix(_ n: Int) throws -> ImageSplit {
        let k = Swift.max(0, Swift.min(n, count))
        return try ImageSplit(split: split, height: height, width: width, channels: channels,
                              pixels: Array(pixels[0..<(k * imageSize)]), labels: Array(labels[0..<k]), classCount: classCount)
    }
}
