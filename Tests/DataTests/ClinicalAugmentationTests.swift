import GraphCore
import Testing
@testable import Data

/// Zoom and exposure changes of `Augmentation.radiograph`, on images whose expected output is written by hand.
@Suite struct ClinicalAugmentationTests {
    /// A 4×4 ramp: value 16·y + 4·x + 10 at (x, y).
    private let ramp = try! ImageSplit(split: .train, height: 4, width: 4, channels: 1,
                                       pixels: (0..<16).map { (i: Int) -> UInt8 in UInt8(16 * (i / 4) + 4 * (i % 4) + 10) },
                                       labels: [0], classCount: 2)

    private func sampled(_ t: ImageTransform) -> [Float] {
        let sampler = ImageSampler(inWidth: 4, inHeight: 4, channels: 1, outWidth: 4, outHeight: 4)
        var out = [Float](repeating: .nan, count: 16)
        ramp.pixels.withUnsafeBufferPointer { image in
            out.withUnsafeMutableBufferPointer { sampler.sample(image, t, into: $0.baseAddress!) }
        }
        return out
    }

    /// Zoom 2 maps output pixel centre x + ½ to input position (x + ½ − 2)/2 + 2 − ½: the centre 2×2 pixels
    /// spread over the frame, a linear ramp stays linear with half the slope (clamped at the centre's edges).
    @Test func zoomMagnifiesAboutTheCentre() {
        let out = sampled(ImageTransform(scale: 2))
        for y in 0..<4 {
            for x in 0..<4 {
                let sx: Float = min(max((Float(x) - 1.5) / 2 + 1.5, 0), 3)
                let sy: Float = min(max((Float(y) - 1.5) / 2 + 1.5, 0), 3)
                let expected: Float = (16 * sy + 4 * sx + 10) / 255
                #expect(abs(out[y * 4 + x] - expected) < 1e-5, "(\(x), \(y))")
            }
        }
    }

    /// Contrast c about the image mean m and brightness b: v ↦ clamp((v − m)·c + m + b, 0, 1).
    @Test func exposureChangesAboutTheMean() {
        let plain = sampled(.identity)
        let mean = plain.reduce(0, +) / 16
        let out = sampled(ImageTransform(brightness: 0.1, contrast: 1.5))
        for (o, v) in zip(out, plain) { #expect(abs(o - min(max((v - mean) * 1.5 + mean + 0.1, 0), 1)) < 1e-6) }
        // Exposure alone keeps the copy fast path's geometry.
        let darker = sampled(ImageTransform(brightness: -1))
        #expect(darker.allSatisfy { $0 == 0 })
    }

    /// A shift right by one pixel with edge fill repeats the first column instead of writing black.
    @Test func edgeFillRepeatsTheBorder() {
        let out = sampled(ImageTransform(shiftX: 1, fillWithEdges: true))
        for y in 0..<4 {
            #expect(abs(out[y * 4] - Float(ramp.pixels[y * 4]) / 255) < 1e-6)
            #expect(abs(out[y * 4 + 1] - Float(ramp.pixels[y * 4]) / 255) < 1e-6)
            #expect(abs(out[y * 4 + 3] - Float(ramp.pixels[y * 4 + 2]) / 255) < 1e-6)
        }
        #expect(sampled(ImageTransform(shiftX: 1))[0] == 0)
    }

    @Test func radiographDrawsStayInRange() throws {
        var rng = SeededRandom(seed: 3)
        for _ in 0..<1000 {
            let t = Augmentation.radiograph.sample(width: 28, height: 28, using: &rng)
            #expect(abs(t.rotationDegrees) <= 10 && abs(t.shiftX) <= 0.08 * 28 && abs(t.shiftY) <= 0.08 * 28)
            #expect(t.scale >= 0.9 && t.scale <= 1.1 && abs(t.brightness) <= 0.1 && t.contrast >= 0.85 && t.contrast <= 1.15)
            #expect(!t.flip)
        }
        #expect(throws: DataError.self) { try Augmentation(zoom: 1) }
        #expect(throws: DataError.self) { try Augmentation(brightness: -0.1) }
    }

    /// The geometric draws of `standard` are unchanged by the new fields: same seed, same transforms as before
    /// (zoom, brightness and contrast are drawn only when on).
    @Test func standardDrawsOnlyGeometry() {
        var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
        let t = Augmentation.standard.sample(width: 28, height: 28, using: &a)
        let degrees = (2 * b.nextUniform() - 1) * 10
        #expect(t.rotationDegrees == degrees && t.scale == 1 && t.brightness == 0 && t.contrast == 1)
    }
}

@Suite struct StratifiedFoldsTests {
    let labels = (0..<103).map { $0 % 4 == 0 ? 0 : 1 }

    @Test func foldsAreDisjointCompleteAndStratified() throws {
        let folds = try StratifiedFolds(labels: labels, folds: 5, seed: 7)
        #expect(folds.count == 5)
        let all = folds.folds.flatMap { $0 }
        #expect(all.count == labels.count && Set(all).count == labels.count)
        let negatives = labels.filter { $0 == 0 }.count, positives = labels.count - negatives
        for fold in folds.folds {
            #expect(abs(fold.count - labels.count / 5) <= 1)
            let n = fold.filter { labels[$0] == 0 }.count
            #expect(n == negatives / 5 || n == negatives / 5 + 1)
            #expect(fold.count - n == positives / 5 || fold.count - n == positives / 5 + 1)
        }
    }

    @Test func seeded() throws {
        #expect(try StratifiedFolds(labels: labels, folds: 5, seed: 7) == StratifiedFolds(labels: labels, folds: 5, seed: 7))
        #expect(try StratifiedFolds(labels: labels, folds: 5, seed: 7) != StratifiedFolds(labels: labels, folds: 5, seed: 8))
    }

    @Test func refusesTooFewImagesOrFolds() {
        #expect(throws: DataError.self) { try StratifiedFolds(labels: [0, 1, 1, 1], folds: 2, seed: 1) }
        #expect(throws: DataError.self) { try StratifiedFolds(labels: labels, folds: 1, seed: 1) }
    }

    @Test func subsetAndConcatenate() throws {
        let a = try ImageSplit(split: .train, height: 1, width: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6], labels: [0, 1, 1], classCount: 2)
        let s = try a.subset([2, 0], as: .val)
        #expect(s.pixels == [5, 6, 1, 2] && s.labels == [1, 0] && s.split == .val)
        let c = try a.concatenated(with: s, as: .train)
        #expect(c.count == 5 && c.labels == [0, 1, 1, 1, 0] && Array(c.pixels.suffix(4)) == [5, 6, 1, 2])
        #expect(throws: DataError.self) { try a.subset([3]) }
    }
}
