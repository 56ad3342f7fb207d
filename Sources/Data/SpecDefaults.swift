/// The spec notebook's defaults, which the commands follow unless told otherwise, and the sentences they print
/// where a data file makes them fall back: `CONFIG['image_size']` 64, `evaluate_with_multiple_thresholds` on the
/// test split at 0.4 and 0.7, the SLA's 98% sensitivity.
public enum SpecDefaults {
    public static let imageSize = 64
    public static let evaluationSplit = Split.test
    public static let thresholds = [0.4, 0.7]
    public static let targetSensitivity = 0.98

    /// nil where the file's images are the spec's size; else the sentence saying which size is used instead
    /// (a MedMNIST file holds one size: 64 px is another download, `--data-size 64`).
    public static func imageSizeNote(fileSize: Int) -> String? {
        fileSize == imageSize ? nil : "size \(imageSize) not in file; using \(fileSize)"
    }

    /// The spec's test split where the file has it, else val, with the sentence that says so.
    public static func evaluationSplit(available: [Split]) -> (split: Split, note: String?) {
        available.contains(evaluationSplit) ? (evaluationSplit, nil)
            : (.val, "no \(evaluationSplit.rawValue) split in this file; evaluating on val")
    }
}
