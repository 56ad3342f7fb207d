import Foundation

/// A MedMNIST `.npz` file: arrays `{train,val,test}_{images,labels}`, images uint8 `[N, H, W]` or
/// `[N, H, W, 3]`, labels `[N, 1]` or `[N]`.
///
/// Splits are read when asked for, so a file without a test split (or with a damaged one) serves its
/// training and validation splits; the absence is an error only for the caller who wants that split.
public struct MedMNISTDataset: Sendable {
    public let file: String
    public let task: MedMNISTTask
    private let archive: NPZArchive

    public init(contentsOf url: URL, task: MedMNISTTask = .pneumonia) throws {
        try self.init(archive: NPZArchive(contentsOf: url), task: task)
    }

    public init(archive: NPZArchive, task: MedMNISTTask = .pneumonia) {
        self.archive = archive
        self.task = task
        file = archive.file
    }

    /// Splits whose images or labels are in the file.
    public var availableSplits: [Split] {
        Split.allCases.filter { archive.contains("\($0.rawValue)_images") || archive.contains("\($0.rawValue)_labels") }
    }

    /// Loads and validates one split.
    public func split(_ split: Split) throws -> ImageSplit {
        let imagesKey = "\(split.rawValue)_images", labelsKey = "\(split.rawValue)_labels"
        guard archive.contains(imagesKey) || archive.contains(labelsKey) else {
            let present = availableSplits.map(\.rawValue).joined(separator: ", ")
            throw DataError(.missing, file: file, item: imagesKey,
                            "the file has no '\(split.rawValue)' split (it has: \(present.isEmpty ? "none" : present))")
        }
        let images = try archive.array(imagesKey)
        let labelArray = try archive.array(labelsKey)

        let shape = images.shape
        guard shape.count == 3 || (shape.count == 4 && (shape[3] == 1 || shape[3] == 3)) else {
            throw DataError(.mismatch, file: file, item: images.name,
                            "images must be [N, H, W] or [N, H, W, 3], got \(describeShape(shape))")
        }
        let pixels = try images.uint8Values()
        guard labelArray.shape.count == 1 || (labelArray.shape.count == 2 && labelArray.shape[1] == 1) else {
            throw DataError(.mismatch, file: file, item: labelArray.name,
                            "labels must be [N] or [N, 1] (single-label task), got \(describeShape(labelArray.shape))")
        }
        guard labelArray.shape[0] == shape[0] else {
            throw DataError(.mismatch, file: file, item: labelArray.name,
                            "\(labelArray.shape[0]) labels for \(shape[0]) images in \(images.name ?? imagesKey)")
        }
        let labels = try labelArray.integerValues()
        return try ImageSplit(split: split, height: shape[1], width: shape[2], channels: shape.count == 4 ? shape[3] : 1,
                              pixels: pixels, labels: labels, classCount: task.classCount, file: file)
    }
}
