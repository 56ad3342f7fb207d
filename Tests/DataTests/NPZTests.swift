import Foundation
import Testing
@testable import Data
import TestSupport

/// .npz (zip) reading: numpy-written fixtures (scripts/make_data_fixtures.py), a stored zip written by
/// `storedZip` in this target, and damaged copies of both.
struct NPZTests {
    static let expectedTrainLabels = [0, 1, 1, 0, 1, 1]

    /// Pixel (n, y, x) of the fixtures' train_images is (17n + 3y + x) % 256.
    static var expectedTrainPixels: [UInt8] {
        var out: [UInt8] = []
        for n in 0..<6 { for y in 0..<4 { for x in 0..<4 { out.append(UInt8((17 * n + 3 * y + x) % 256)) } } }
        return out
    }

    @Test(arguments: ["tiny_savez.npz", "tiny_savez_compressed.npz"])
    func readsNumpyArchives(name: String) throws {
        let archive = try NPZArchive(contentsOf: fixture(name))
        #expect(archive.keys == ["train_images", "train_labels", "val_images", "val_labels"])
        let images = try archive.array("train_images")
        #expect(images.dtype == .uint8)
        #expect(images.shape == [6, 4, 4])
        #expect(try images.uint8Values() == Self.expectedTrainPixels)
        let labels = try archive.array("train_labels")
        #expect(labels.shape == [6, 1])
        #expect(try labels.integerValues() == Self.expectedTrainLabels)
        #expect(try archive.array("val_labels").integerValues() == [1, 0])
    }

    @Test func compressedFixtureReallyIsDeflated() throws {
        let zip = try ZipArchive(contentsOf: fixture("tiny_savez_compressed.npz"))
        #expect(zip.entries.allSatisfy { $0.method == 8 })
        let stored = try ZipArchive(contentsOf: fixture("tiny_savez.npz"))
        #expect(stored.entries.allSatisfy { $0.method == 0 })
    }

    @Test func readsHandWrittenStoredZip() throws {
        let bytes = storedZip(splitMembers("train", labels: [1, 0, 1]))
        let archive = try NPZArchive(bytes: bytes, file: "hand.npz")
        #expect(archive.keys == ["train_images", "train_labels"])
        #expect(try archive.array("train_labels").integerValues() == [1, 0, 1])
        #expect(try archive.array("train_images").shape == [3, 3, 3])
    }

    @Test func readsZip64Structures() throws {
        let bytes = storedZip(splitMembers("val", labels: [0, 1, 1, 0]), zip64: true)
        let zip = try ZipArchive(bytes: bytes, file: "z64.npz")
        #expect(zip.entries.map(\.name) == ["val_images.npy", "val_labels.npy"])
        #expect(zip.entries[1].localHeaderOffset > 0)
        let archive = try NPZArchive(bytes: bytes, file: "z64.npz")
        #expect(try archive.array("val_labels").integerValues() == [0, 1, 1, 0])
        #expect(try archive.array("val_images").shape == [4, 3, 3])
    }

    @Test func zip64MarkerWithoutRecordIsCorrupt() throws {
        var bytes = storedZip(splitMembers("val", labels: [0]), zip64: true)
        let locator = bytes.count - 22 - 20
        bytes[locator] = 0  // break the zip64 locator's signature
        let error = #expect(throws: DataError.self) { try ZipArchive(bytes: bytes, file: "z64.npz") }
        #expect(error?.kind == .corrupt)
    }

    @Test func missingMemberNamesTheKey() throws {
        let archive = try NPZArchive(bytes: storedZip(splitMembers("train", labels: [1])), file: "hand.npz")
        let error = #expect(throws: DataError.self) { try archive.array("test_images") }
        #expect(error?.kind == .missing)
        #expect(error?.item == "test_images")
        #expect(error?.file == "hand.npz")
    }

    @Test func notAZipIsAFormatError() {
        let error = #expect(throws: DataError.self) {
            try NPZArchive(bytes: npyBytes(descr: "|u1", shape: [40], data: Array(repeating: 7, count: 40)), file: "a.npz")
        }
        #expect(error?.kind == .format)
        #expect(error?.file == "a.npz")
    }

    @Test func emptyFileIsTruncated() {
        let error = #expect(throws: DataError.self) { try NPZArchive(bytes: [], file: "empty.npz") }
        #expect(error?.kind == .truncated)
    }

    /// Cutting the archive anywhere must give an error, never a trap or a silently short array.
    @Test(arguments: ["tiny_savez.npz", "tiny_savez_compressed.npz"])
    func everyTruncationFails(name: String) throws {
        let bytes = try FileIO.readBytes(fixture(name))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            let cut = Array(bytes.prefix(length))
            #expect(throws: DataError.self, "cut at \(length)") {
                let archive = try NPZArchive(bytes: cut, file: name)
                for key in archive.keys { _ = try archive.array(key) }
            }
        }
    }

    /// A damaged central directory that still parses, but points the member past the end of the file.
    @Test func truncatedMemberNamesTheMember() throws {
        var bytes = storedZip(splitMembers("train", labels: [1, 0]))
        // The first central directory entry's compressed and uncompressed sizes: make them huge.
        let central = try #require(findSignature(bytes, 0x0201_4b50))
        for k in 0..<8 { bytes[central + 20 + k] = 0x7F }
        let archive = try NPZArchive(bytes: bytes, file: "cut.npz")
        let error = #expect(throws: DataError.self) { try archive.array("train_images") }
        #expect(error?.kind == .truncated)
        #expect(error?.item == "train_images.npy")
        #expect(error?.file == "cut.npz")
    }

    @Test func flippedDataByteFailsTheCRC() throws {
        var bytes = storedZip(splitMembers("train", labels: [1, 0]))
        bytes[120] ^= 0xFF  // inside the first member's pixels
        let archive = try NPZArchive(bytes: bytes, file: "flip.npz")
        let error = #expect(throws: DataError.self) { try archive.array("train_images") }
        #expect(error?.kind == .corrupt)
        #expect(error?.message.contains("CRC-32") == true)
        #expect(try archive.array("train_labels").integerValues() == [1, 0])  // the other member is fine
    }

    @Test func corruptDeflateStreamIsReported() throws {
        var bytes = try FileIO.readBytes(fixture("tiny_savez_compressed.npz"))
        let zip = try ZipArchive(bytes: bytes, file: "z")
        let entry = try #require(zip.entry(named: "train_images.npy"))
        // Overwrite the start of the member's deflate data with an invalid block type (0b11).
        let local = entry.localHeaderOffset
        let dataStart = local + 30 + Int(bytes[local + 26]) + Int(bytes[local + 27]) << 8
            + Int(bytes[local + 28]) + Int(bytes[local + 29]) << 8
        bytes[dataStart] = 0xFF
        let archive = try NPZArchive(bytes: bytes, file: "bad.npz")
        let error = #expect(throws: DataError.self) { try archive.array("train_images") }
        #expect(error?.kind == .corrupt)
        #expect(error?.item == "train_images.npy")
    }

    @Test func impossibleDeclaredSizeIsRejectedBeforeAllocating() throws {
        var bytes = try FileIO.readBytes(fixture("tiny_savez_compressed.npz"))
        let central = try #require(findSignature(bytes, 0x0201_4b50))
        for k in 0..<4 { bytes[central + 24 + k] = 0xFE }  // uncompressed size ≈ 4 GiB
        let archive = try NPZArchive(bytes: bytes, file: "bomb.npz")
        let error = #expect(throws: DataError.self) { try archive.array(archive.keys[0]) }
        #expect(error?.kind == .corrupt)
    }

    @Test func unsupportedCompressionMethod() throws {
        var bytes = storedZip(splitMembers("train", labels: [1]))
        let central = try #require(findSignature(bytes, 0x0201_4b50))
        bytes[central + 10] = 14  // LZMA
        let archive = try NPZArchive(bytes: bytes, file: "lzma.npz")
        let error = #expect(throws: DataError.self) { try archive.array("train_images") }
        #expect(error?.kind == .unsupported)
    }

    private func findSignature(_ bytes: [UInt8], _ signature: UInt32) -> Int? {
        (0..<(bytes.count - 4)).first { p in
            (0..<4).allSatisfy { bytes[p + $0] == UInt8(truncatingIfNeeded: signature >> (8 * UInt32($0))) }
        }
    }
}
