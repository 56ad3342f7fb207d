import GraphCore
import Foundation
import Testing
@testable import Data
import TestSupport

/// .npy parsing and writing. Fixture values: scripts/make_data_fixtures.py.
struct NPYTests {
    @Test(arguments: ["v2_f4.npy", "v3_f4.npy"])
    func readsVersions2And3(name: String) throws {
        let array = try NPYReader.read(contentsOf: fixture(name))
        #expect(array.dtype == .float32)
        #expect(array.shape == [3, 2])
        #expect(array.floatValues() == [0, 1, 2, 3, 4, 5])
    }

    @Test func readsEveryDtypeFromNumpy() throws {
        let archive = try NPZArchive(contentsOf: fixture("dtypes.npz"))
        for (key, dtype) in [("u1", NPYDType.uint8), ("i4", .int32), ("i8", .int64), ("f4", .float32), ("f8", .float64)] {
            let array = try archive.array(key)
            #expect(array.dtype == dtype, "\(key)")
            #expect(array.shape == [2, 3], "\(key)")
            #expect(try array.integerValues() == [0, 1, 2, 3, 4, 5], "\(key)")
            #expect(array.floatValues() == [0, 1, 2, 3, 4, 5], "\(key)")
        }
    }

    @Test func fortranOrderIsReturnedRowMajor() throws {
        let array = try NPZArchive(contentsOf: fixture("dtypes.npz")).array("fortran")
        #expect(array.shape == [2, 3])
        #expect(array.floatValues() == [0, 1, 2, 3, 4, 5])
    }

    @Test func bigEndianIsSwapped() throws {
        let array = try NPZArchive(contentsOf: fixture("dtypes.npz")).array("big")
        #expect(array.dtype == NPYDType(kind: .signedInteger, byteSize: 4, bigEndian: true))
        #expect(try array.integerValues() == [0, 1, 2, 3, 4, 5])
    }

    @Test func negativeIntegersSignExtend() throws {
        var data: [UInt8] = []
        for v: Int32 in [-1, -300, 7] { data.appendLE(v) }
        let array = try NPYReader.decode(npyBytes(descr: "<i4", shape: [3], data: data), file: "mem", name: nil)
        #expect(try array.integerValues() == [-1, -300, 7])
        #expect(array.floatValues() == [-1, -300, 7])
    }

    @Test func zeroDimensionalArrayHasOneElement() throws {
        var data: [UInt8] = []
        data.appendLE(Float(2.5).bitPattern)
        let array = try NPYReader.decode(npyBytes(descr: "<f4", shape: [], data: data), file: "mem", name: nil)
        #expect(array.shape == [])
        #expect(array.floatValues() == [2.5])
    }

    @Test func writerMatchesNumpyByteForByte() throws {
        let expected2x3 = try FileIO.readBytes(fixture("saved_f4_2x3.npy"))
        #expect(try NPYWriter.encode(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25]) == expected2x3)
        let expected1d = try FileIO.readBytes(fixture("saved_f4_1d.npy"))
        #expect(try NPYWriter.encode(shape: [2], scalars: [1.5, -2]) == expected1d)
    }

    @Test func writtenFileReadsBack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("y.npy")
        let tensor = try Tensor(shape: [2, 2, 1], scalars: [1, -2, 3.5, 1e-3])
        try NPYWriter.write(tensor, to: url)
        let back = try NPYReader.read(contentsOf: url)
        #expect(back.shape == [2, 2, 1])
        #expect(back.floatValues() == [1, -2, 3.5, 1e-3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["y.npy"])  // no temporary left
    }

    @Test func writerRejectsMismatchedShape() {
        let error = #expect(throws: DataError.self) { try NPYWriter.encode(shape: [2, 2], scalars: [1, 2, 3]) }
        #expect(error?.kind == .invalidArgument)
    }

    // MARK: Failures, each with its kind and the file and array named

    @Test func wrongMagicIsAFormatError() {
        let error = #expect(throws: DataError.self) {
            try NPYReader.decode(Array("PK\u{3}\u{4} not an npy file at all".utf8), file: "x.npy", name: "member")
        }
        #expect(error?.kind == .format)
        #expect(error?.file == "x.npy")
        #expect(error?.item == "member")
    }

    @Test func truncatedDataIsReported() {
        let bytes = npyBytes(descr: "|u1", shape: [2, 3], data: [1, 2, 3, 4])
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f.npz", name: "a.npy") }
        #expect(error?.kind == .truncated)
        #expect(error?.description.contains("needs 6 data bytes, found 4") == true)
        #expect(error?.description.hasPrefix("f.npz: 'a.npy'") == true)
    }

    @Test func truncatedHeaderIsReported() {
        let bytes = Array(npyBytes(descr: "|u1", shape: [2], data: [1, 2]).prefix(30))
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f", name: nil) }
        #expect(error?.kind == .truncated)
    }

    @Test func extraDataIsCorrupt() {
        let bytes = npyBytes(descr: "|u1", shape: [2], data: [1, 2, 3])
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f", name: nil) }
        #expect(error?.kind == .corrupt)
    }

    @Test func overflowingShapeIsCaughtNotTrapped() {
        let bytes = npyBytes(descr: "<f8", shape: [Int(1) << 40, 1 << 30], data: [])
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f", name: nil) }
        #expect(error?.kind == .corrupt)
    }

    @Test(arguments: ["<c8", "<f2", "|O", "<U5", "<M8[ns]"])
    func unsupportedDtypes(descr: String) {
        let error = #expect(throws: DataError.self) {
            try NPYReader.decode(npyBytes(descr: descr, shape: [0], data: []), file: "f", name: nil)
        }
        #expect(error?.kind == .unsupported)
    }

    @Test(arguments: [
        "{'descr': '<f4', 'shape': (2,), }\n",                                       // missing key
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n",         // extra key
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n",              // negative dim
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }\n",                   // not a bool
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), \n",                // unterminated
        "['descr', '<f4']\n",                                                         // not a dict
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n",
    ])
    func malformedHeaders(header: String) {
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes.appendLE(UInt16(header.utf8.count))
        bytes += Array(header.utf8) + [0, 0, 0, 0, 0, 0, 0, 0]
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f", name: nil) }
        #expect(error?.kind == .format)
    }

    /// A negative dimension is named in Python's words, not as Swift's `sequence([PythonLiteral.integer(-2)])`.
    @Test func negativeDimensionIsNamedPlainly() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 28), }\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes.appendLE(UInt16(header.utf8.count))
        bytes += Array(header.utf8)
        #expect(throws: DataError(.format, file: "f", "shape (-2, 28) has a negative dimension -2")) {
            try NPYReader.decode(bytes, file: "f", name: nil)
        }
    }

    @Test func unknownVersionIsUnsupported() {
        let bytes = npyBytes(descr: "|u1", shape: [1], data: [1], version: 9)
        let error = #expect(throws: DataError.self) { try NPYReader.decode(bytes, file: "f", name: nil) }
        #expect(error?.kind == .unsupported)
    }

    @Test func nonIntegralFloatsAreNotLabels() throws {
        var data: [UInt8] = []
        for v: Float in [0, 1.5] { data.appendLE(v.bitPattern) }
        let array = try NPYReader.decode(npyBytes(descr: "<f4", shape: [2], data: data), file: "f", name: "labels")
        let error = #expect(throws: DataError.self) { try array.integerValues() }
        #expect(error?.kind == .unsupported)
    }

    @Test func pythonLiteralParser() throws {
        let parsed = try PythonLiteral.parse("{'a': (1, -2,), \"b\": [True, None], 'c': 3L, }")
        #expect(parsed == .dict([("a", .sequence([.integer(1), .integer(-2)])),
                                 ("b", .sequence([.bool(true), .none])), ("c", .integer(3))]))
        #expect(throws: PythonLiteral.SyntaxError.self) { try PythonLiteral.parse(String(repeating: "(", count: 1000)) }
    }
}
