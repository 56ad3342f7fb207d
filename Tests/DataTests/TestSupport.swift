import Foundation
@testable import Data

/// Fixtures written by scripts/make_data_fixtures.py (see its docstring for every value).
func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}

/// The package root, from this file's path (Tests/DataTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pneumo-data-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A version-1.0 .npy file built by hand (independently of `NPYWriter`), for malformed-input tests.
func npyBytes(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false, version: UInt8 = 1) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    let header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(dims)), }\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    if version == 1 { out.appendLE(UInt16(header.utf8.count)) } else { out.appendLE(UInt32(header.utf8.count)) }
    return out + Array(header.utf8) + data
}

/// A plain CRC-32 (IEEE, reflected, bit by bit): the reference the zip writer below uses, independent of zlib.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A stored (uncompressed) zip archive of `members`, written from the PKWARE APPNOTE layout: local header
/// and data per member, then the central directory and the end record. With `zip64`, every size and offset
/// in the central directory and end record is moved into the zip64 structures (as writers do past 4 GiB).
func storedZip(_ members: [(name: String, data: [UInt8])], zip64: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, data) in members {
        let offset = UInt32(out.count), crc = referenceCRC32(data), nameBytes = Array(name.utf8)
        out.appendLE(UInt32(0x0403_4b50)); out.appendLE(UInt16(20)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(UInt16(0)); out.appendLE(UInt16(0x21))  // time, date (1980-01-01)
        out.appendLE(crc); out.appendLE(UInt32(data.count)); out.appendLE(UInt32(data.count))
        out.appendLE(UInt16(nameBytes.count)); out.appendLE(UInt16(0))
        out += nameBytes + data
        let size32 = zip64 ? 0xFFFF_FFFF : UInt32(data.count), offset32 = zip64 ? 0xFFFF_FFFF : offset
        central.appendLE(UInt32(0x0201_4b50)); central.appendLE(UInt16(45)); central.appendLE(UInt16(45))
        central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0x21))
        central.appendLE(crc); central.appendLE(size32); central.appendLE(size32)
        central.appendLE(UInt16(nameBytes.count)); central.appendLE(UInt16(zip64 ? 28 : 0)); central.appendLE(UInt16(0))
        central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt32(0)); central.appendLE(offset32)
        central += nameBytes
        if zip64 {
            central.appendLE(UInt16(1)); central.appendLE(UInt16(24))
            central.appendLE(UInt64(data.count)); central.appendLE(UInt64(data.count)); central.appendLE(UInt64(offset))
        }
    }
    let centralOffset = out.count
    out += central
    if zip64 {
        let record = out.count
        out.appendLE(UInt32(0x0606_4b50)); out.appendLE(UInt64(44)); out.appendLE(UInt16(45)); out.appendLE(UInt16(45))
        out.appendLE(UInt32(0)); out.appendLE(UInt32(0))
        out.appendLE(UInt64(members.count)); out.appendLE(UInt64(members.count))
        out.appendLE(UInt64(central.count)); out.appendLE(UInt64(centralOffset))
        out.appendLE(UInt32(0x0706_4b50)); out.appendLE(UInt32(0)); out.appendLE(UInt64(record)); out.appendLE(UInt32(1))
    }
    out.appendLE(UInt32(0x0605_4b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
    out.appendLE(zip64 ? UInt16(0xFFFF) : UInt16(members.count)); out.appendLE(zip64 ? UInt16(0xFFFF) : UInt16(members.count))
    out.appendLE(zip64 ? 0xFFFF_FFFF : UInt32(central.count)); out.appendLE(zip64 ? 0xFFFF_FFFF : UInt32(centralOffset))
    out.appendLE(UInt16(0))
    return out
}

/// A MedMNIST-shaped split as .npy members: `n` images of `h × w` with value (n + y + x) % 256.
func splitMembers(_ split: String, labels: [UInt8], h: Int = 3, w: Int = 3, imageCount: Int? = nil) -> [(name: String, data: [UInt8])] {
    let n = imageCount ?? labels.count
    var pixels: [UInt8] = []
    for i in 0..<n { for y in 0..<h { for x in 0..<w { pixels.append(UInt8((i + y + x) % 256)) } } }
    return [("\(split)_images.npy", npyBytes(descr: "|u1", shape: [n, h, w], data: pixels)),
            ("\(split)_labels.npy", npyBytes(descr: "|u1", shape: [labels.count, 1], data: labels))]
}

/// A split made in memory: image i has every pixel equal to `values[i]`.
func uniformSplit(values: [UInt8], labels: [Int], h: Int = 2, w: Int = 2, classCount: Int = 2) throws -> ImageSplit {
    try ImageSplit(split: .train, height: h, width: w, channels: 1,
                   pixels: values.flatMap { Array(repeating: $0, count: h * w) }, labels: labels, classCount: classCount)
}
