/// What one looks at before training on a split: class balance and pixel statistics.
///
/// Pixel statistics are on the [0, 1] scale the model sees before normalisation (byte / 255), computed
/// exactly from a 256-bin histogram, so they do not depend on summation order or image count.
public struct SplitStatistics: Sendable, Equatable {
    public let split: Split
    public let total: Int
    /// Images per class, indexed by label.
    public let classCounts: [Int]
    public let pixelMean: Double
    public let pixelStd: Double
    public let pixelMin: Double
    public let pixelMax: Double

    /// Majority count over minority count; nil when a class has no images (the ratio is unbounded).
    public var imbalanceRatio: Double? {
        guard let lo = classCounts.min(), let hi = classCounts.max(), lo > 0 else { return nil }
        return Double(hi) / Double(lo)
    }

    public init(_ data: ImageSplit) {
        split = data.split
        total = data.count
        classCounts = data.classCounts
        var histogram = [Int](repeating: 0, count: 256)
        data.pixels.withUnsafeBufferPointer { for v in $0 { histogram[Int(v)] += 1 } }
        var n = 0, sum = 0, sumSquares = 0
        for (value, k) in histogram.enumerated() where k > 0 {
            n += k
            sum += k * value
            sumSquares += k * value * value
        }
        guard n > 0 else {
            (pixelMean, pixelStd, pixelMin, pixelMax) = (0, 0, 0, 0)
            return
        }
        let mean = Double(sum) / Double(n)
        // Population variance from exact integer sums: no cancellation beyond one final subtraction.
        let variance = max(0, Double(sumSquares) / Double(n) - mean * mean)
        pixelMean = mean / 255
        pixelStd = variance.squareRoot() / 255
        pixelMin = Double(histogram.firstIndex { $0 > 0 }!) / 255
        pixelMax = Double(histogram.lastIndex { $0 > 0 }!) / 255
    }
}
