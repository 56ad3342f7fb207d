/// The fixed preamble and dictionary header of an .npy file.
///
/// # Layout (numpy's `format` module, versions 1.0, 2.0 and 3.0)
/// ```
/// "\x93NUMPY"  major  minor  header_len (u16 LE for v1, u32 LE for v2/v3)  header  data…
/// ```
/// `header` is a Python dict literal with exactly the keys `descr`, `fortran_order` and `shape`, padded
/// with spaces and a newline; v3 differs from v2 only in allowing UTF-8 in it.
struct NPYHeader: Equatable {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    var version: (major: UInt8, minor: UInt8)
    var dtype: NPYDType
    var fortranOrder: Bool
    var shape: [Int]
    /// Offset of the first data byte from the start of the file.
    var dataOffset: Int

    static func == (a: NPYHeader, b: NPYHeader) -> Bool {
        a.version == b.version && a.dtype == b.dtype && a.fortranOrder == b.fortranOrder && a.shape == b.shape
            && a.dataOffset == b.dataOffset
    }

    /// Element count and byte count of the data, overflow-checked: a header may claim a shape whose
    /// product wraps around, which unchecked arithmetic would turn into a small, plausible size.
    func dataSize(file: String, item: String?) throws -> (count: Int, bytes: Int) {
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw DataError(.corrupt, file: file, item: item, "shape \(describeShape(shape)) has more elements than Int can count")
            }
            count = p
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw DataError(.corrupt, file: file, item: item, "shape \(describeShape(shape)) of \(dtype) is too large to address")
        }
        return (count, bytes)
    }

    static func parse(_ reader: ByteReader) throws -> NPYHeader {
        let file = reader.file, item = reader.item
        guard reader.bytes.count >= magic.count, Array(reader.bytes.prefix(magic.count)) == magic else {
            throw DataError(.format, file: file, item: item, "not an .npy array (missing the \\x93NUMPY magic)")
        }
        try reader.require(6, 2, "the .npy version")
        let major = reader.bytes[6], minor = reader.bytes[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(try reader.u16(8, "the .npy header length"))
            headerStart = 10
        case 2, 3:
            headerLength = Int(try reader.u32(8, "the .npy header length"))
            headerStart = 12
        default:
            throw DataError(.unsupported, file: file, item: item, ".npy format version \(major).\(minor) (this reader knows 1.0, 2.0, 3.0)")
        }
        let headerBytes = try reader.slice(headerStart, headerLength, "the .npy header")
        guard let text = String(validating: headerBytes, as: UTF8.self) else {
            throw DataError(.format, file: file, item: item, ".npy header is not valid text")
        }
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text)
        } catch {
            throw DataError(.format, file: file, item: item, "cannot parse .npy header \(text.debugDescription): \(error.message)")
        }
        guard case .dict(let entries) = literal else {
            throw DataError(.format, file: file, item: item, ".npy header is not a dict: \(text.debugDescription)")
        }
        let keys = entries.map(\.0)
        guard Set(keys) == ["descr", "fortran_order", "shape"], keys.count == 3 else {
            throw DataError(.format, file: file, item: item,
                            ".npy header must have exactly the keys descr, fortran_order, shape; has \(keys)")
        }
        let values = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        guard case .string(let descr) = values["descr"]! else {
            throw DataError(.unsupported, file: file, item: item, "structured dtype \(text.debugDescription) (only simple numeric dtypes)")
        }
        guard let dtype = NPYDType(descr: descr) else {
            throw DataError(.unsupported, file: file, item: item, "dtype '\(descr)' (supported: b1, u1/u2/u4/u8, i1/i2/i4/i8, f4, f8)")
        }
        guard case .bool(let fortran) = values["fortran_order"]! else {
            throw DataError(.format, file: file, item: item, "fortran_order is not True or False")
        }
        guard case .sequence(let dims) = values["shape"]! else {
            throw DataError(.format, file: file, item: item, "shape \(values["shape"]!.python) is not a tuple")
        }
        var shape: [Int] = []
        for dim in dims {
            guard case .integer(let d) = dim else {
                throw DataError(.format, file: file, item: item, "shape \(values["shape"]!.python) has a dimension that is not an integer: \(dim.python)")
            }
            guard d >= 0 else {
                throw DataError(.format, file: file, item: item, "shape \(values["shape"]!.python) has a negative dimension \(d)")
            }
            shape.append(d)
        }
        return NPYHeader(version: (major, minor), dtype: dtype, fortranOrder: fortran, shape: shape,
                         dataOffset: headerStart + headerLength)
    }
}

/// `[4708, 28, 28]`, for messages (the Engine's `describe` names the same format for tensors).
func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
