import Foundation

/// Reads .npy arrays from files or from bytes (an .npz member).
public enum NPYReader {
    public static func read(contentsOf url: URL) throws -> NPYArray {
        try decode(FileIO.readBytes(url), file: url.path, name: nil)
    }

    /// Parses a whole .npy file held in memory. `file` and `name` only label errors.
    ///
    /// The data must be exactly as long as the shape says: numpy never writes trailing bytes, so extra
    /// bytes mean a damaged file as surely as missing ones do.
    public static func decode(_ bytes: [UInt8], file: String, name: String?) throws -> NPYArray {
        let reader = ByteReader(bytes, file: file, item: name)
        let header = try NPYHeader.parse(reader)
        let (count, byteCount) = try header.dataSize(file: file, item: name)
        let available = bytes.count - header.dataOffset
        if available < byteCount {
            throw DataError(.truncated, file: file, item: name,
                            "shape \(describeShape(header.shape)) of \(header.dtype) needs \(byteCount) data bytes, found \(max(available, 0))")
        }
        if available > byteCount {
            throw DataError(.corrupt, file: file, item: name,
                            "shape \(describeShape(header.shape)) of \(header.dtype) needs \(byteCount) data bytes, found \(available) (\(available - byteCount) extra)")
        }
        var data = Array(bytes[header.dataOffset...])
        if header.fortranOrder, header.shape.count > 1, count > 0 {
            data = fortranToRowMajor(data, shape: header.shape, elementSize: header.dtype.byteSize)
        }
        return NPYArray(dtype: header.dtype, shape: header.shape, bytes: data, file: file, name: name)
    }

    /// Reorders column-major (first index fastest) elements into row-major order.
    static func fortranToRowMajor(_ data: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        let rank = shape.count
        var fortranStrides = [Int](repeating: 1, count: rank)
        for d in 1..<rank { fortranStrides[d] = fortranStrides[d - 1] * shape[d - 1] }
        var result = [UInt8](repeating: 0, count: data.count)
        var index = [Int](repeating: 0, count: rank)
        let count = shape.reduce(1, *)
        for rowMajor in 0..<count {
            var source = 0
            for d in 0..<rank { source += index[d] * fortranStrides[d] }
            let from = source * elementSize, to = rowMajor * elementSize
            for k in 0..<elementSize { result[to + k] = data[from + k] }
            var d = rank - 1  // advance the row-major multi-index: last dimension fastest
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return result
    }
}
