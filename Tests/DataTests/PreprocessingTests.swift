import GraphCore
import Foundation
import Testing
@testable import Data

struct PreprocessingTests {
    /// Values in [0, 1] straight from the sampler (mean 0, std 1 undoes nothing).
    private func unit(_ split: ImageSplit, size: Int? = nil, channels: Int = 1) throws -> [Float] {
        try Preprocessing(size: size, channels: channels, mean: 0, std: 1).images(split, indices: [0]).scalars
    }

    @Test func scalesAndNormalizesLikeMedMNIST() throws {
        let split = try uniformSplit(values: [0, 255, 51], labels: [0, 1, 0], h: 1, w: 1)
        let tensor = try Preprocessing().images(split, indices: [2, 0, 1])
        #expect(tensor.shape == [3, 1, 1, 1])
        // (v / 255 − 0.5) / 0.5
        let expected: [Float] = [-0.6, -1, 1]
        for (a, b) in zip(tensor.scalars, expected) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func grayscaleIsReplicatedToThreeChannels() throws {
        let split = try ImageSplit(split: .train, height: 1, width: 2, channels: 1, pixels: [0, 255], labels: [0], classCount: 2)
        let tensor = try Preprocessing(channels: 3).images(split, indices: [0])
        #expect(tensor.shape == [1, 3, 1, 2])
        #expect(tensor.scalars == [-1, 1, -1, 1, -1, 1])
    }

    @Test func rgbIsConvertedToLumaForOneChannel() throws {
        let split = try ImageSplit(split: .train, height: 1, width: 1, channels: 3, pixels: [255, 0, 0], labels: [0], classCount: 2)
        let values = try unit(split)
        #expect(abs(values[0] - 0.299) < 1e-6)
    }

    /// PyTorch `interpolate(scale_factor=2, mode="bilinear", align_corners=False)` of [[0, 100], [100, 200]]:
    /// source positions −¼ (clamped), ¼, ¾, 1¼ (clamped) along each axis.
    @Test func bilinearUpsamplingMatchesPyTorchConvention() throws {
        let split = try ImageSplit(split: .train, height: 2, width: 2, channels: 1, pixels: [0, 100, 100, 200], labels: [0], classCount: 2)
        let expected: [Float] = [0, 25, 75, 100, 25, 50, 100, 125, 75, 100, 150, 175, 100, 125, 175, 200]
        let values = try unit(split, size: 4)
        for (a, b) in zip(values, expected) { #expect(abs(a - b / 255) < 1e-6) }
    }

    @Test func bilinearDownsamplingAveragesBlocks() throws {
        let pixels: [UInt8] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]
        let split = try ImageSplit(split: .train, height: 4, width: 4, channels: 1, pixels: pixels, labels: [0], classCount: 2)
        let expected: [Float] = [25, 45, 105, 125]
        let values = try unit(split, size: 2)
        for (a, b) in zip(values, expected) { #expect(abs(a - b / 255) < 1e-6) }
    }

    private let square = try! ImageSplit(split: .train, height: 3, width: 3, channels: 1,
                                         pixels: [10, 20, 30, 40, 50, 60, 70, 80, 90], labels: [0], classCount: 2)

    private func sampled(_ t: ImageTransform) -> [Float] {
        let sampler = ImageSampler(inWidth: 3, inHeight: 3, channels: 1, outWidth: 3, outHeight: 3)
        var out = [Float](repeating: .nan, count: 9)
        square.pixels.withUnsafeBufferPointer { image in
            out.withUnsafeMutableBufferPointer { sampler.sample(image, t, into: $0.baseAddress!) }
        }
        return out
    }

    /// 90° maps output (x, y) to input (y, 2 − x): a quarter turn, exactly, up to float rounding.
    @Test func quarterTurnPermutesPixels() {
        let out = sampled(ImageTransform(rotationDegrees: 90))
        for y in 0..<3 {
            for x in 0..<3 {
                #expect(abs(out[y * 3 + x] - Float(square.pixels[(2 - x) * 3 + y]) / 255) < 1e-5)
            }
        }
    }

    @Test func shiftMovesContentAndFillsBlack() {
        let out = sampled(ImageTransform(shiftX: 1))
        for y in 0..<3 {
            #expect(out[y * 3] == 0)
            #expect(abs(out[y * 3 + 1] - Float(square.pixels[y * 3]) / 255) < 1e-6)
            #expect(abs(out[y * 3 + 2] - Float(square.pixels[y * 3 + 1]) / 255) < 1e-6)
        }
    }

    @Test func flipMirrors() {
        let out = sampled(ImageTransform(flip: true))
        #expect(out.map { Int(($0 * 255).rounded()) } == [30, 20, 10, 60, 50, 40, 90, 80, 70])
    }

    /// The copy fast path against the general resampler on a transform that is the identity in effect.
    @Test func fastPathMatchesGeneralPath() {
        let fast = sampled(.identity)
        let general = sampled(ImageTransform(rotationDegrees: 360))
        for (a, b) in zip(fast, general) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func augmentationDrawsStayInRange() throws {
        var rng = SeededRandom(seed: 1)
        for _ in 0..<1000 {
            let t = Augmentation.standard.sample(width: 28, height: 28, using: &rng)
            #expect(abs(t.rotationDegrees) <= 10)
            #expect(abs(t.shiftX) <= 2.8 && abs(t.shiftY) <= 2.8)
            #expect(!t.flip)
        }
        #expect(throws: DataError.self) { try Augmentation(maxRotationDegrees: -1) }
    }

    @Test func augmentationIsSeeded() throws {
        let split = try uniformSplit(values: [40, 200], labels: [0, 1], h: 8, w: 8)
        let pre = try Preprocessing()
        func run(_ seed: UInt64) -> [Float] {
            var rng = SeededRandom(seed: seed)
            return pre.images(split, indices: [0, 1], augmentation: .standard, rng: &rng).scalars
        }
        #expect(run(7) == run(7))
        #expect(run(7) != run(8))
    }

    @Test func invalidSettingsAreRejected() {
        #expect(throws: DataError.self) { try Preprocessing(channels: 2) }
        #expect(throws: DataError.self) { try Preprocessing(size: 0) }
        #expect(throws: DataError.self) { try Preprocessing(std: 0) }
    }
}
