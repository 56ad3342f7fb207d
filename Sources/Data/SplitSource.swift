/// Where evaluation reads its splits: a MedMNIST file as it is, or splits already loaded (and subset) from one.
public protocol SplitSource: Sendable {
    /// The file, for messages.
    var file: String { get }
    /// Splits the source can give.
    var availableSplits: [Split] { get }
    func split(_ split: Split) throws -> ImageSplit
}

extension MedMNISTDataset: SplitSource {}
