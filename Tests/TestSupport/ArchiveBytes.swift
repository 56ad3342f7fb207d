// .npy and .npz files built by hand from the published layouts, independently of the Data module's readers and
// writers: malformed-input tests edit them, and datasets made in memory need no file on disk.

/// A version-1.0 (or 2.0) .npy file: magic, version, header length, the header dict, then `data` as is.
public func npyBytes(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false, version: UInt8 = 1) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    let header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(dims)), }\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    if version == 1 { out.littleEndian(UInt16(header.utf8.count)) } else { out.littleEndian(UInt32(header.utf8.count)) }
    return out + Array(header.utf8) + data
}

/// A plain CRC-32 (IEEE, reflected, bit by bit): the reference the zip writer below uses, independent of zlib.
public func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
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
public func storedZip(_ members: [(name: String, data: [UInt8])], zip64: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, data) in members {
        let offset = UInt32(out.count), crc = referenceCRC32(data), nameBytes = Array(name.utf8)
        out.littleEndian(UInt32(0x0403_4b50)); out.littleEndian(UInt16(20)); out.littleEndian(UInt16(0)); out.littleEndian(UInt16(0))
        out.littleEndian(UInt16(0)); out.littleEndian(UInt16(0x21))  // time, date (1980-01-01)
        out.littleEndian(crc); out.littleEndian(UInt32(data.count)); out.littleEndian(UInt32(data.count))
        out.littleEndian(UInt16(nameBytes.count)); out.littleEndian(UInt16(0))
        out += nameBytes + data
        let size32 = zip64 ? 0xFFFF_FFFF : UInt32(data.count), offset32 = zip64 ? 0xFFFF_FFFF : offset
        central.littleEndian(UInt32(0x0201_4b50)); central.littleEndian(UInt16(45)); central.littleEndian(UInt16(45))
        central.littleEndian(UInt16(0)); central.littleEndian(UInt16(0)); central.littleEndian(UInt16(0)); central.littleEndian(UInt16(0x21))
        central.littleEndian(crc); central.littleEndian(size32); central.littleEndian(size32)
        central.littleEndian(UInt16(nameBytes.count)); central.littleEndian(UInt16(zip64 ? 28 : 0)); central.littleEndian(UInt16(0))
        central.littleEndian(UInt16(0)); central.littleEndian(UInt16(0)); central.littleEndian(UInt32(0)); central.littleEndian(offset32)
        central += nameBytes
        if zip64 {
            central.littleEndian(UInt16(1)); central.littleEndian(UInt16(24))
            central.littleEndian(UInt64(data.count)); central.littleEndian(UInt64(data.count)); central.littleEndian(UInt64(offset))
        }
    }
    let centralOffset = out.count
    out += central
    if zip64 {
        let record = out.count
        out.littleEndian(UInt32(0x0606_4b50)); out.littleEndian(UInt64(44)); out.littleEndian(UInt16(45)); out.littleEndian(UInt16(45))
        out.littleEndian(UInt32(0)); out.littleEndian(UInt32(0))
        out.littleEndian(UInt64(members.count)); out.littleEndian(UInt64(members.count))
        out.littleEndian(UInt64(central.count)); out.littleEndian(UInt64(centralOffset))
        out.littleEndian(UInt32(0x0706_4b50)); out.littleEndian(UInt32(0)); out.littleEndian(UInt64(record)); out.littleEndian(UInt32(1))
    }
    out.littleEndian(UInt32(0x0605_4b50)); out.littleEndian(UInt16(0)); out.littleEndian(UInt16(0))
    out.littleEndian(zip64 ? UInt16(0xFFFF) : UInt16(members.count)); out.littleEndian(zip64 ? UInt16(0xFFFF) : UInt16(members.count))
    out.littleEndian(zip64 ? 0xFFFF_FFFF : UInt32(central.count)); out.littleEndian(zip64 ? 0xFFFF_FFFF : UInt32(centralOffset))
    out.littleEndian(UInt16(0))
    return out
}

/// A MedMNIST-shaped split as .npy members: `n` images of `h × w`, image i with pixel (y, x) = (i + y + x) % 256.
public func splitMembers(_ split: String, labels: [UInt8], h: Int = 3, w: Int = 3, imageCount: Int? = nil) -> [(name: String, data: [UInt8])] {
    let n = imageCount ?? labels.count
    var pixels: [UInt8] = []
    for i in 0..<n { for y in 0..<h { for x in 0..<w { pixels.append(UInt8((i + y + x) % 256)) } } }
    return [("\(split)_images.npy", npyBytes(descr: "|u1", shape: [n, h, w], data: pixels)),
            ("\(split)_labels.npy", npyBytes(descr: "|u1", shape: [labels.count, 1], data: labels))]
}

// Private, so that test targets which `@testable import Data` see only Data's `appendLE`.
extension Array where Element == UInt8 {
    fileprivate mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}
