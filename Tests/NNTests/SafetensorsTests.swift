import Foundation
import Testing
@testable import NN
import TestSupport

/// Round trip and hostile-input checks of the safetensors reader and writer.
@Suite struct SafetensorsTests {
    /// `name` in a fresh temporary folder, which `defer { remove(url) }` takes away with the file.
    func tempURL(_ name: String) throws -> URL { try temporaryDirectory("st").appendingPathComponent(name) }

    func remove(_ url: URL) { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }

    @Test func roundTripKeepsOrderValuesAndMetadata() throws {
        let url = try tempURL("a.safetensors")
        defer { remove(url) }
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5])
        let b = try Tensor(shape: [1], scalars: [0.25])
        try Safetensors.write([("z.weight", a), ("a.bias", b)], metadata: ["model": "resnet18"], to: url)
        let f = try Safetensors.read(url)
        #expect(f.tensors.map(\.name) == ["z.weight", "a.bias"])
        #expect(f["z.weight"]?.scalars == a.scalars && f["z.weight"]?.shape == [2, 3])
        #expect(f.metadata["model"] == "resnet18")
        // The header is padded to 8 bytes, so the data section is aligned.
        let data = try Data(contentsOf: url)
        #expect(Int(data[0]) % 8 == 0)
    }

    @Test func truncatedAndCorruptFilesAreNamedErrors() throws {
        let url = try tempURL("b.safetensors")
        defer { remove(url) }
        try Safetensors.write([("w", try Tensor(shape: [4], scalars: [1, 2, 3, 4]))], to: url)
        let whole = try Data(contentsOf: url)
        for (what, bytes) in [("truncated data", whole.prefix(whole.count - 3)), ("no header", whole.prefix(5)),
                              ("garbage", Data(repeating: 0xFF, count: 64))] {
            try bytes.write(to: url)
            #expect(throws: Safetensors.Error.self, "\(what)") { try Safetensors.read(url) }
        }
        #expect(throws: Safetensors.Error.self) { try Safetensors.read(url.deletingLastPathComponent().appendingPathComponent("missing")) }
    }

    @Test func nanValuesAreRejected() throws {
        let url = try tempURL("c.safetensors")
        defer { remove(url) }
        try Safetensors.write([("w", try Tensor(shape: [2], scalars: [1, .nan]))], to: url)
        #expect(throws: Safetensors.Error.self) { try Safetensors.read(url) }
    }
}

/// Element types other than F32 (PyTorch's F16/BF16 weights and I64 counters), read into float32 with their values.
@Suite struct SafetensorsDTypeTests {
    func read(_ bytes: [UInt8]) throws -> Safetensors.File {
        let dir = try temporaryDirectory("st")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        try Data(bytes).write(to: url)
        return try Safetensors.read(url)
    }

    static func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } } }

    @Test func everyIntegerAndFloatTypeReadsItsValues() throws {
        let f64: [Double] = [0.1, -3.5, 1e-40]   // rounded to the nearest float32 (the last to a subnormal)
        let f = try read(safetensorsBytes([
            // 1, −2, 0.5, 65504 (the largest half), 2⁻²⁴ (the smallest subnormal), −0.
            .f16("half", [2, 3], bits: [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000]),
            SafetensorsTensor("brain", "BF16", [2], Self.le([UInt16(0x3FC0), 0xC120])),   // 1.5, −10
            SafetensorsTensor("double", "F64", [3], Self.le(f64.map(\.bitPattern))),
            .i64("bn.num_batches_tracked", [], [1234]),
            SafetensorsTensor("i32", "I32", [2], Self.le([Int32(-7), 1 << 24])),
            SafetensorsTensor("i16", "I16", [2], Self.le([Int16.min, Int16.max])),
            SafetensorsTensor("i8", "I8", [2], [0x80, 0x7F]),
            SafetensorsTensor("u8", "U8", [2], [0, 255]),
            SafetensorsTensor("bool", "BOOL", [3], [0, 1, 2]),
            SafetensorsTensor("u16", "U16", [1], Self.le([UInt16.max])),
            SafetensorsTensor("u32", "U32", [1], Self.le([UInt32(3_000_000)])),
            SafetensorsTensor("u64", "U64", [1], Self.le([UInt64(42)])),
        ]))
        #expect(f["half"]?.shape == [2, 3])
        #expect(f["half"]?.scalars.map(\.bitPattern) == [Float(1), -2, 0.5, 65504, 0x1p-24, -0.0].map(\.bitPattern))
        #expect(f["brain"]?.scalars == [1.5, -10])
        #expect(f["double"]?.scalars == f64.map { Float($0) })
        #expect(f["bn.num_batches_tracked"]?.shape == [] && f["bn.num_batches_tracked"]?.scalars == [1234])
        #expect(f["i32"]?.scalars == [-7, 16_777_216])
        #expect(f["i16"]?.scalars == [-32768, 32767])
        #expect(f["i8"]?.scalars == [-128, 127])
        #expect(f["u8"]?.scalars == [0, 255])
        #expect(f["bool"]?.scalars == [0, 1, 1])
        #expect(f["u16"]?.scalars == [65535] && f["u32"]?.scalars == [3_000_000] && f["u64"]?.scalars == [42])
        #expect(f.dtypes["half"] == .f16 && f.dtypes["bn.num_batches_tracked"] == .i64 && f.dtypes["brain"] == .bf16)
        #expect(f.tensors.map(\.name).first == "half", "tensors keep the file's data order")
    }
}

/// The tensors must tile the data section exactly, as the format's reference reader requires: each malformed
/// layout is refused with an error that names the file and the tensor.
@Suite struct SafetensorsLayoutTests {
    /// The reader's message for `bytes` (without the path), or nil when it read them.
    func message(_ bytes: [UInt8]) throws -> String? {
        let dir = try temporaryDirectory("st")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.safetensors")
        try Data(bytes).write(to: url)
        do { _ = try Safetensors.read(url) } catch let e as Safetensors.Error {
            #expect(e.path == url.path && e.description.hasPrefix(url.path + ": "))
            return e.message
        }
        return nil
    }

    static let four: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]   // 1, 2, 3, 4 as F32

    @Test func overlappingTensorsAreRefused() throws {
        #expect(try message(safetensorsBytes([
            SafetensorsTensor("a", "F32", [2], Array(Self.four[0..<8]), offsets: (0, 8)),
            SafetensorsTensor("b", "F32", [2], Array(Self.four[8..<16]), offsets: (4, 12)),
        ])) == "tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]")
        // Two names for the same bytes.
        #expect(try message(safetensorsBytes([
            SafetensorsTensor("a", "F32", [4], Self.four, offsets: (0, 16)),
            SafetensorsTensor("b", "F32", [4], [], offsets: (0, 16)),
        ])) == "tensor 'b' data_offsets [0, 16] overlap tensor 'a' [0, 16]")
    }

    @Test func gapsAndLeftoverBytesAreRefused() throws {
        #expect(try message(safetensorsBytes([
            SafetensorsTensor("a", "F32", [1], Array(Self.four[0..<4]), offsets: (0, 4)),
            SafetensorsTensor("b", "F32", [2], Array(Self.four[4..<16]), offsets: (8, 16)),
        ])) == "bytes [4, 8) of the data section belong to no tensor (a gap before tensor 'b')")
        #expect(try message(safetensorsBytes([.f32("a", [2], [1, 2])], trailing: [0, 0, 0, 0]))
                == "the data section has 12 bytes but its tensors cover 8 (bytes after the last tensor, 'a', belong to no tensor)")
        #expect(try message(safetensorsBytes([], trailing: [1])) == "the data section has 1 bytes but its tensors cover 0 (bytes after the last tensor belong to no tensor)")
    }

    @Test func offsetsOutsideTheDataOrOfTheWrongSizeAreRefused() throws {
        #expect(try message(safetensorsBytes([SafetensorsTensor("w", "F32", [4], Self.four, offsets: (4, 20))]))
                == "tensor 'w' data_offsets [4, 20] lie outside the 16-byte data section")
        #expect(try message(safetensorsBytes([SafetensorsTensor("w", "F32", [0], Self.four, offsets: (16, 8))]))
                == "tensor 'w' data_offsets [16, 8] lie outside the 16-byte data section")
        #expect(try message(safetensorsBytes([SafetensorsTensor("w", "F16", [4], Self.four)]))
                == "tensor 'w' has 16 bytes but shape [4] × F16 needs 8")
    }

    /// The header may list tensors in any order (older writers sorted them by name); the data order is the offsets'.
    @Test func headerOrderNeedNotBeDataOrder() throws {
        let bytes = safetensorsBytes([
            SafetensorsTensor("second", "F32", [2], Array(Self.four[8..<16]), offsets: (8, 16)),
            SafetensorsTensor("first", "F32", [2], Array(Self.four[0..<8]), offsets: (0, 8)),
            SafetensorsTensor("empty", "F32", [0, 3], [], offsets: (8, 8)),
        ])
        // The data section is written in the header's order, so swap the halves back to match the offsets.
        let dataStart = bytes.count - 16
        let fixed = Array(bytes[..<dataStart]) + Self.four
        #expect(try message(fixed) == nil)
        let dir = try temporaryDirectory("st")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("ok.safetensors")
        try Data(fixed).write(to: url)
        let f = try Safetensors.read(url)
        #expect(f.tensors.map(\.name) == ["first", "empty", "second"])
        #expect(f["first"]?.scalars == [1, 2] && f["second"]?.scalars == [3, 4] && f["empty"]?.shape == [0, 3])
    }

    @Test func unsupportedTypesAndNonObjectHeadersAreRefused() throws {
        #expect(try message(safetensorsBytes([SafetensorsTensor("q", "F8_E4M3", [2], [1, 2])]))
                == "tensor 'q' has dtype F8_E4M3; supported: BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64")
        let array: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0] + Array("[]      ".utf8)
        #expect(try message(array) == "header is not a JSON object")
        #expect(try message(safetensorsBytes([SafetensorsTensor("x", "F64", [1], SafetensorsDTypeTests.le([(1e300 as Double).bitPattern]))]))
                == "tensor 'x' holds NaN or Inf (or a value beyond float32's range)")
    }
}

@Suite struct HalfPrecisionTests {
    /// Every binary16 bit pattern converts as Swift's own `Float16` does (where it exists: not on Intel Macs).
    @Test func everyHalfMatchesFloat16() {
        #if !(os(macOS) && arch(x86_64))
        var mismatches: [UInt16] = []
        for bits in 0...UInt16.max {
            let ours = Safetensors.DType.halfToFloat(bits), swift = Float(Float16(bitPattern: bits))
            if !(ours.bitPattern == swift.bitPattern || (ours.isNaN && swift.isNaN)) { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
        #endif
    }
}
