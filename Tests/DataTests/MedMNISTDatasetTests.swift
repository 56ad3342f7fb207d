import Foundation
import Testing
@testable import Data
import TestSupport

struct MedMNISTDatasetTests {
    @Test(arguments: ["tiny_savez.npz", "tiny_savez_compressed.npz"])
    func loadsSplitsFromNumpyFixtures(name: String) throws {
        let dataset = try MedMNISTDataset(contentsOf: fixture(name))
        #expect(dataset.availableSplits == [.train, .val])
        let train = try dataset.split(.train)
        #expect((train.count, train.height, train.width, train.channels) == (6, 4, 4, 1))
        #expect(train.labels == NPZTests.expectedTrainLabels)
        #expect(train.classCounts == [2, 4])
        #expect(Array(train.image(1)) == Array(NPZTests.expectedTrainPixels[16..<32]))
        let val = try dataset.split(.val)
        #expect(val.labels == [1, 0])
        #expect(val.pixels.first == 255)  // 255 − pixel (0, 0, 0) of train
    }

    @Test func missingSplitIsAnErrorOnlyWhenAskedFor() throws {
        let dataset = try MedMNISTDataset(contentsOf: fixture("tiny_savez.npz"))
        _ = try dataset.split(.train)
        let error = #expect(throws: DataError.self) { try dataset.split(.test) }
        #expect(error?.kind == .missing)
        #expect(error?.message.contains("no 'test' split (it has: train, val)") == true)
    }

    @Test func mismatchedImageAndLabelCounts() throws {
        let members = splitMembers("train", labels: [0, 1, 1], imageCount: 4)
        let dataset = MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "m.npz"))
        let error = #expect(throws: DataError.self) { try dataset.split(.train) }
        #expect(error?.kind == .mismatch)
        #expect(error?.file == "m.npz")
        #expect(error?.description.contains("3 labels for 4 images") == true)
    }

    @Test func labelOutsideTheTaskIsRejected() throws {
        let members = splitMembers("val", labels: [0, 2, 1])
        let dataset = MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "m.npz"))
        let error = #expect(throws: DataError.self) { try dataset.split(.val) }
        #expect(error?.kind == .mismatch)
        #expect(error?.item == "val_labels")
        #expect(error?.message.contains("label 2 at index 1 is outside 0..<2") == true)
    }

    @Test func labelsMissingWhileImagesPresent() throws {
        let members = Array(splitMembers("train", labels: [0, 1]).prefix(1))
        let dataset = MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "m.npz"))
        let error = #expect(throws: DataError.self) { try dataset.split(.train) }
        #expect(error?.kind == .missing)
        #expect(error?.item == "train_labels")
    }

    @Test func rgbImagesAndFlatLabels() throws {
        let pixels = (0..<(2 * 2 * 2 * 3)).map { UInt8($0) }
        let members = [("test_images.npy", npyBytes(descr: "|u1", shape: [2, 2, 2, 3], data: pixels)),
                       ("test_labels.npy", npyBytes(descr: "<i8", shape: [2], data: [1, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]))]
        let dataset = MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "rgb.npz"))
        let test = try dataset.split(.test)
        #expect(test.channels == 3)
        #expect(test.labels == [1, 0])
    }

    @Test func floatImagesAreRejected() throws {
        let members = [("train_images.npy", npyBytes(descr: "<f4", shape: [1, 1, 1], data: [0, 0, 0, 0])),
                       ("train_labels.npy", npyBytes(descr: "|u1", shape: [1, 1], data: [0]))]
        let dataset = MedMNISTDataset(archive: try NPZArchive(bytes: storedZip(members), file: "f.npz"))
        let error = #expect(throws: DataError.self) { try dataset.split(.train) }
        #expect(error?.kind == .unsupported)
        #expect(error?.item == "train_images.npy")
    }

    @Test func statisticsAreExact() throws {
        // Pixels 0, 0, 0, 0 | 255 × 4 | 51 × 4: mean (0 + 255 + 51) / 3 / 255 = 0.4, population std of {0, 1, 0.2}.
        let split = try uniformSplit(values: [0, 255, 51], labels: [1, 1, 0])
        let stats = SplitStatistics(split)
        #expect(stats.total == 3)
        #expect(stats.classCounts == [1, 2])
        #expect(stats.imbalanceRatio == 2)
        #expect(abs(stats.pixelMean - 0.4) < 1e-12)
        let expectedStd = (((0 - 0.4) * (0 - 0.4) + 0.6 * 0.6 + 0.2 * 0.2) / 3).squareRoot()
        #expect(abs(stats.pixelStd - expectedStd) < 1e-12)
        #expect((stats.pixelMin, stats.pixelMax) == (0, 1))
    }

    @Test func imbalanceIsUnboundedWithAnEmptyClass() throws {
        #expect(SplitStatistics(try uniformSplit(values: [1, 2], labels: [1, 1])).imbalanceRatio == nil)
    }

    static let sharedFile = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/pneumoniamnist_28_trainval.npz")

    /// The real PneumoniaMNIST 28×28 train and val splits, where this checkout has them next to it.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedFile.path), "needs ../shared/data/pneumoniamnist_28_trainval.npz"))
    func realPneumoniaMNISTTrainVal() throws {
        let dataset = try MedMNISTDataset(contentsOf: Self.sharedFile)
        #expect(dataset.availableSplits == [.train, .val])
        let train = try dataset.split(.train)
        #expect((train.count, train.height, train.width, train.channels) == (4708, 28, 28, 1))
        #expect(train.classCounts == [1214, 3494])  // MedMNIST v2 paper, Table: PneumoniaMNIST
        let val = try dataset.split(.val)
        #expect((val.count, val.height, val.width) == (524, 28, 28))
        #expect(val.classCounts == [135, 389])
        let error = #expect(throws: DataError.self) { try dataset.split(.test) }
        #expect(error?.kind == .missing)
        let report = try DatasetReport(dataset: dataset)
        #expect(report.splits.map(\.split) == [.train, .val])
    }
}
