import Foundation
import GraphCore
import Testing
@testable import Serve

/// The fast FP32 reader of `data`'s numbers against the standard library's `Float(String)` (`strtof`, correctly
/// rounded), bit for bit: every float's shortest text comes back exactly, and so does every other printer's.
@Suite("Serving: JSON numbers") struct JSONNumberParserTests {
    /// The parser's reading of all of `text` (nil when it is not a JSON number, or has bytes after the number).
    static func parse(_ text: String) -> Float? {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "]"))   // as in a body: the parser must stop at the number's end
        return bytes.withUnsafeBytes { raw in
            var i = 0
            guard let x = JSONNumberParser.float(raw, at: &i), i == raw.count - 1 else { return nil }
            return x
        }
    }

    static func expectSame(_ text: String, _ expected: Float, sourceLocation: SourceLocation = #_sourceLocation) {
        let got = parse(text)
        #expect(got?.bitPattern == expected.bitPattern, "\(text): \(got.map { "\($0)" } ?? "nil"), expected \(expected)", sourceLocation: sourceLocation)
    }

    @Test func specialValuesRoundTrip() {
        let values: [Float] = [0, -0.0, 1, -1, 0.1, -0.1, 1 / 3, 16_777_216, .pi, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               .leastNormalMagnitude, Float.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, Float(bitPattern: 0x007F_FFFF), Float(bitPattern: 0x0000_0003), 1e-40, 1e38]
        for v in values { Self.expectSame("\(v)", v) }
        // -0 keeps its sign, however it is written.
        for text in ["-0", "-0.0", "-0e5", "-0.000", "-0E-7"] { Self.expectSame(text, -0.0) }
        for text in ["0", "0.0", "0e0", "0.000000000000000000000000000000"] { Self.expectSame(text, 0) }
    }

    @Test func randomFloatsRoundTripFromTheirShortestText() {
        var rng = SeededRandom(seed: 2026)
        for _ in 0..<50_000 {
            let v = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            guard v.isFinite else { continue }
            Self.expectSame("\(v)", v)
        }
    }

    /// Texts as other clients print them: Python's `json.dumps` of doubles (17 digits), C's `%.9g`, NumPy's
    /// rounded values, integers without a dot, exponents in every spelling: each as `strtof` rounds it.
    @Test func otherPrintersAgreeWithStrtof() {
        var rng = SeededRandom(seed: 7)
        var texts = ["3", "-12", "16777217", "16777219", "123456789", "9007199254740993", "123456789012345678901234567890",
                     "1e10", "1E10", "1e+10", "1E-10", "2.5e-3", "-7.25E+2", "1e22", "1e23", "1e-22", "1e-23", "0.30000000000000004",
                     "1.17549435e-38", "1.4e-45", "7e-46", "8e-46", "3.4028235e38", "3.4028236e38", "0.000001", "100000000000000000000000"]
        for _ in 0..<20_000 {
            let d = Double.random(in: -4...4, using: &rng) * pow(10, Double(Int.random(in: -40...38, using: &rng)))
            texts.append("\(d)")
            texts.append(String(format: "%.9g", d))
            texts.append(String(format: "%.4f", d))
            texts.append(String(Int.random(in: -100_000_000...100_000_000, using: &rng)))
        }
        for text in texts {
            Self.expectSame(text, Float(text)!)   // `%.4f` of a tiny negative number prints `-0.0000`: -0 either way
        }
    }

    /// Decimals next to (and exactly on) the midpoint between two floats: where rounding to double first could round wrong.
    @Test func midpointsRoundAsStrtofDoes() {
        var rng = SeededRandom(seed: 11)
        for _ in 0..<20_000 {
            let f = Float(bitPattern: UInt32.random(in: 0x0080_0000...0x7F00_0000, using: &rng))
            let mid = (Double(f) + Double(f.nextUp)) / 2
            for text in ["\(mid)", String(format: "%.17g", mid), String(format: "%.16g", mid), String(format: "%.25g", mid),
                         String(format: "%.17g", mid.nextUp), String(format: "%.17g", mid.nextDown)] {
                Self.expectSame(text, Float(text)!)
            }
        }
        // 2^24 + 1 and + 3 are exact midpoints in the fast path's range: ties go to even.
        Self.expectSame("16777217", 16_777_216)
        Self.expectSame("16777219", 16_777_220)
        Self.expectSame("16777217.000000001", 16_777_218)
    }

    @Test func outOfRangeAsStrtof() {
        Self.expectSame("1e39", .infinity)
        Self.expectSame("-1e39", -.infinity)
        Self.expectSame("1e400000000000", .infinity)
        Self.expectSame("1e-50", 0)
        Self.expectSame("-1e-50", -0.0)
        Self.expectSame("1e-400000000000", 0)
        Self.expectSame("0." + String(repeating: "0", count: 500) + "1", 0)
        Self.expectSame("1" + String(repeating: "0", count: 38), 1e38)
    }

    /// Not JSON numbers: the parser refuses them (or stops where the number ends, for the caller to refuse the rest).
    @Test(arguments: ["", "-", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-e5", "NaN", "nan", "Infinity", "-Infinity", "inf",
                      "0x10", "01", "-01", "00", " 1", "1 ", "1_000", "1,5", "--1", "1e5.5", "\u{FF11}"])
    func nonNumbersAreRefused(text: String) {
        #expect(Self.parse(text) == nil, "\(text)")
    }
}
