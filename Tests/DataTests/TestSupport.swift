import Foundation
@testable import Data
import TestSupport

/// Fixtures written by scripts/make_data_fixtures.py (see its docstring for every value).
func fixture(_ name: String) -> URL { fixtureURL(name, in: .module) }

/// A split made in memory: image i has every pixel equal to `values[i]`.
func uniformSplit(values: [UInt8], labels: [Int], h: Int = 2, w: Int = 2, classCount: Int = 2) throws -> ImageSplit {
    try ImageSplit(split: .train, height: h, width: w, channels: 1,
                   pixels: values.flatMap { Array(repeating: $0, count: h * w) }, labels: labels, classCount: classCount)
}
