import Foundation

/// The exploration `pneumo data` prints: per split, counts per class, imbalance and pixel statistics.
/// Splits the file lacks are listed as absent rather than failing the report.
public struct DatasetReport: Sendable {
    public let file: String
    public let task: MedMNISTTask
    public let height: Int
    public let width: Int
    public let channels: Int
    /// Statistics of the splits present, in train, val, test order.
    public let splits: [SplitStatistics]

    /// Loads every split the file has (absent splits are skipped, damaged ones throw).
    public init(dataset: MedMNISTDataset) throws {
        try self.init(file: dataset.file, task: dataset.task, splits: dataset.availableSplits.map { try dataset.split($0) })
    }

    /// Statistics of splits already loaded; they must share one image geometry.
    public init(file: String, task: MedMNISTTask, splits data: [ImageSplit]) throws {
        guard let first = data.first else {
            throw DataError(.missing, file: file, "no train, val or test arrays in the file")
        }
        for s in data where (s.height, s.width, s.channels) != (first.height, first.width, first.channels) {
            throw DataError(.mismatch, file: file, item: "\(s.split.rawValue)_images",
                            "images are \(s.height)×\(s.width)×\(s.channels), \(first.split.rawValue) images \(first.height)×\(first.width)×\(first.channels)")
        }
        self.file = file
        self.task = task
        (height, width, channels) = (first.height, first.width, first.channels)
        splits = data.sorted { $0.split < $1.split }.map(SplitStatistics.init)
    }

    /// Keys: `file`, `image_size` (the height; MedMNIST images are square), `image_shape` ([H, W, C]),
    /// `classes`, and `splits` with `train`, `val`, `test`, each null when absent or an object with
    /// `total`, one count per class name, `imbalance_ratio` (null when a class is empty), and `pixel_mean`,
    /// `pixel_std`, `pixel_min`, `pixel_max` on the [0, 1] scale; with `loading`, also `loading` (`DataLoadingReport`).
    public func json(loading: DataLoadingReport? = nil) -> String {
        var splitObjects: [String: Any] = [:]
        for split in Split.allCases {
            guard let s = splits.first(where: { $0.split == split }) else {
                splitObjects[split.rawValue] = NSNull()
                continue
            }
            var object: [String: Any] = [
                "total": s.total,
                "imbalance_ratio": s.imbalanceRatio.map { rounded($0, 4) as Any } ?? NSNull(),
                "pixel_mean": rounded(s.pixelMean, 6), "pixel_std": rounded(s.pixelStd, 6),
                "pixel_min": rounded(s.pixelMin, 6), "pixel_max": rounded(s.pixelMax, 6),
            ]
            for (name, count) in zip(task.classNames, s.classCounts) { object[name] = count }
            splitObjects[split.rawValue] = object
        }
        var root: [String: Any] = [
            "file": file, "image_size": height, "image_shape": [height, width, channels],
            "classes": task.classNames, "splits": splitObjects,
        ]
        if let loading {
            // Plain strings, numbers and arrays: encoding and reading back cannot fail.
            root["loading"] = try! JSONSerialization.jsonObject(with: try! JSONEncoder().encode(loading))
        }
        // Every value above is a string, number, array, dict or NSNull, so serialisation cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A plain-text table for the terminal.
    public func table() -> String {
        var lines = ["file:   \(file)", "images: \(height)×\(width), \(channels == 1 ? "grayscale" : "\(channels) channels"), task \(task.name)", ""]
        let header = ["split", "total"] + task.classNames + ["imbalance", "mean", "std", "min", "max"]
        var rows = [header]
        for split in Split.allCases {
            guard let s = splits.first(where: { $0.split == split }) else {
                rows.append([split.rawValue, "absent"] + Array(repeating: "", count: header.count - 2))
                continue
            }
            rows.append([split.rawValue, String(s.total)]
                        + s.classCounts.map { "\($0) (\(percent($0, of: s.total)))" }
                        + [s.imbalanceRatio.map { String(format: "%.2f:1", $0) } ?? "∞",
                           String(format: "%.4f", s.pixelMean), String(format: "%.4f", s.pixelStd),
                           String(format: "%.4f", s.pixelMin), String(format: "%.4f", s.pixelMax)])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            lines.append(row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        lines.append("")
        lines.append("pixel statistics on the [0, 1] scale; imbalance = majority / minority class count")
        return lines.joined(separator: "\n")
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (x * scale).rounded() / scale
    }

    private func percent(_ part: Int, of total: Int) -> String {
        total == 0 ? "–" : String(format: "%.1f%%", 100 * Double(part) / Double(total))
    }
}
