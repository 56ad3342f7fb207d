/// JSON numbers read straight from a request's bytes as FP32, correctly rounded: the `data` of an inference request
/// is hundreds of numbers, which `JSONDecoder` reads one `Decodable` call at a time.
///
/// The fast path is Clinger's: a decimal `w × 10^e` with `w ≤ 2^53` and `|e| ≤ 22` is one correctly rounded
/// double operation on exact operands. Rounding that double to FP32 can only differ from rounding the decimal itself
/// when the double lands exactly on the midpoint between two floats (midpoints are doubles, and rounding is monotone),
/// so that case, and every decimal outside the fast path (long mantissas, large exponents, subnormals), takes the
/// reference: the standard library's `Float(String)`, which is `strtof` in the C locale.
enum JSONNumberParser {
    /// Reads the number at `bytes[index...]` with JSON's grammar (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`) and
    /// moves `index` past it; nil (and `index` unmoved) when the bytes there are not a JSON number. Out of FP32's
    /// range the result is ±infinity or ±0, as `strtof` gives.
    @inline(__always)
    static func float(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Float? {
        let n = bytes.count
        var j = index
        let negative = j < n && bytes[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        guard j < n else { return nil }
        var mantissa: UInt64 = 0
        var significant = 0   // digits in `mantissa` after its leading zeros
        var exponent = 0      // of ten, for the digits kept
        var inexact = false   // a non-zero digit past the 19 kept
        @inline(__always) func digit(_ d: UInt64, fraction: Bool) {
            if significant < 19 {
                mantissa = mantissa &* 10 &+ d
                if mantissa != 0 { significant += 1 }
                if fraction { exponent -= 1 }
            } else {
                if d != 0 { inexact = true }
                if !fraction { exponent += 1 }
            }
        }
        let first = bytes[j] &- UInt8(ascii: "0")
        guard first < 10 else { return nil }
        j += 1
        if first != 0 {
            digit(UInt64(first), fraction: false)
            while j < n, case let d = bytes[j] &- UInt8(ascii: "0"), d < 10 { digit(UInt64(d), fraction: false); j += 1 }
        }
        if j < n && bytes[j] == UInt8(ascii: ".") {
            j += 1
            let start = j
            while j < n, case let d = bytes[j] &- UInt8(ascii: "0"), d < 10 { digit(UInt64(d), fraction: true); j += 1 }
            guard j > start else { return nil }
        }
        if j < n && (bytes[j] | 0x20) == UInt8(ascii: "e") {
            j += 1
            var negativeExponent = false
            if j < n && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { negativeExponent = bytes[j] == UInt8(ascii: "-"); j += 1 }
            let start = j
            var e = 0
            while j < n, case let d = bytes[j] &- UInt8(ascii: "0"), d < 10 { if e < 100_000 { e = e * 10 + Int(d) }; j += 1 }
            guard j > start else { return nil }
            exponent += negativeExponent ? -e : e
        }
        defer { index = j }
        if mantissa == 0 && !inexact { return negative ? -0.0 : 0 }
        if !inexact && mantissa <= 1 << 53 && (-22...22).contains(exponent) {
            var d = Double(mantissa)
            d = exponent < 0 ? d / powersOfTen[-exponent] : d * powersOfTen[exponent]
            let f = Float(d)
            let back = Double(f)
            if back == d || (back + Double(back < d ? f.nextUp : f.nextDown)) * 0.5 != d {
                return negative ? -f : f
            }
        }
        return reference(UnsafeRawBufferPointer(rebasing: bytes[index..<j]))
    }

    /// The standard library's correctly rounded reading of a JSON number's text: the fallback, and the tests' reference.
    static func reference(_ text: UnsafeRawBufferPointer) -> Float {
        Float(String(decoding: text, as: UTF8.self))!
    }

    /// 10⁰ … 10²², each exact in a double.
    private static let powersOfTen: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { x, _ in x * 10 } }
}
