import Foundation

/// Numbers for people: durations in µs/ms/s, bytes in KB/MB/GB, fractions as percentages, counts as 1.2k.
///
/// Every function is deterministic and locale-independent (`.` for decimals, `,` between thousands), so
/// reports and their tests are byte-for-byte stable. Three significant digits unless said otherwise,
/// trailing zeros dropped ("1.2 ms", not "1.20 ms").
public enum Format {
    /// `x` with `decimals` digits after the point; never "-0".
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "-∞") }
        let s = String(format: "%.\(max(0, decimals))f", x)
        return s.allSatisfy({ "-0.".contains($0) }) ? String(s.dropFirst(s.hasPrefix("-") ? 1 : 0)) : s
    }

    /// `x` to `digits` significant digits, trailing zeros dropped; integers of 4+ digits grouped ("12,345").
    public static func significant(_ x: Double, _ digits: Int = 3) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        if x == 0 { return "0" }
        let magnitude = Int(floor(log10(abs(x))))
        if magnitude >= digits - 1 { return grouped((x).rounded()) }
        return trimZeros(fixed(x, digits - 1 - magnitude))
    }

    /// An integer with thousands separators: 1234567 → "1,234,567".
    public static func grouped(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        let digits = fixed(abs(x.rounded()), 0)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (x.rounded() < 0 ? "-" : "") + out
    }

    public static func grouped(_ n: Int) -> String { grouped(Double(n)) }

    /// A count with an SI suffix: 950 → "950", 1234 → "1.23k", 2_500_000 → "2.5M", 3e9 → "3G".
    public static func compact(_ x: Double, _ digits: Int = 3) -> String {
        withPrefix(x, digits, separator: "", unit: "")
    }

    /// A duration given in milliseconds: 0.0123 → "12.3 µs", 1.234 → "1.23 ms", 1234 → "1.23 s".
    public static func milliseconds(_ ms: Double) -> String {
        guard ms.isFinite else { return fixed(ms, 0) }
        let a = abs(ms)
        if a == 0 { return "0 ms" }
        if a < 1 { return significant(ms * 1000) + " µs" }
        if a < 1000 { return significant(ms) + " ms" }
        return seconds(ms / 1000)
    }

    /// A duration given in seconds: 0.25 → "250 ms", 12.34 → "12.3 s", 125 → "2 min 5 s", 7300 → "2 h 2 min".
    public static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return fixed(s, 0) }
        let a = abs(s)
        if a < 1 { return milliseconds(s * 1000) }
        if a < 60 { return significant(s) + " s" }
        let total = Int(a.rounded()), sign = s < 0 ? "-" : ""
        if total < 3600 { return sign + "\(total / 60) min \(total % 60) s" }
        return sign + "\(total / 3600) h \((total % 3600) / 60) min"
    }

    /// A size in bytes, binary multiples (1 KB = 1024 B, 1 MB = 1024² B, as the SLA's "100 MB" is read):
    /// 512 → "512 B", 1536 → "1.5 KB", 3_250_000 → "3.1 MB".
    public static func bytes(_ b: Double) -> String {
        guard b.isFinite else { return fixed(b, 0) }
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = b, i = 0
        while abs(value) >= 1000 && i < units.count - 1 {  // 1000 KB reads worse than 0.98 MB
            value /= 1024; i += 1
        }
        return (i == 0 ? grouped(value) : significant(value)) + " " + units[i]
    }

    public static func bytes(_ b: Int) -> String { bytes(Double(b)) }

    /// A size given in megabytes (MiB): 42.5 → "42.5 MB".
    public static func megabytes(_ mb: Double) -> String { bytes(mb * 1024 * 1024) }

    /// A fraction as a percentage: 0.98123 → "98.1%" (one decimal by default).
    public static func percent(_ fraction: Double, decimals: Int = 1) -> String {
        guard fraction.isFinite else { return fixed(fraction, 0) }
        return fixed(fraction * 100, decimals) + "%"
    }

    /// A fraction as a signed change: 0.123 → "+12.3%", -0.04 → "-4.0%", 0 → "0.0%".
    public static func signedPercent(_ fraction: Double, decimals: Int = 1) -> String {
        let s = percent(fraction, decimals: decimals)
        return fraction > 0 && s.contains(where: { "123456789".contains($0) }) ? "+" + s : s
    }

    /// Floating-point operations: 3.2e8 → "320 MFLOP", 1.5e9 → "1.5 GFLOP".
    public static func flops(_ x: Double) -> String { withPrefix(x, 3, separator: " ", unit: "FLOP") }

    /// Multiply-accumulates: 1.6e8 → "160 MMAC".
    public static func macs(_ x: Double) -> String { withPrefix(x, 3, separator: " ", unit: "MAC") }

    /// Written next to every per-sample GFLOPs figure: the spec counts a multiply-accumulate as one operation
    /// (the same words as `GraphCore.ComputeConvention.label`, which Charts cannot import).
    public static let gflopsConvention = "spec's convention: 1 MAC = 1 FLOP, as thop counts"

    /// A throughput in samples per second: 2345.6 → "2.35k samples/s".
    public static func throughput(_ samplesPerSecond: Double) -> String {
        compact(samplesPerSecond) + " samples/s"
    }

    /// A ratio of speeds: 1.847 → "1.85×", 31.24 → "31.2×", 945.5 → "946×".
    public static func speedup(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        return trimZeros(fixed(x, x >= 100 ? 0 : x >= 10 ? 1 : 2)) + "×"
    }

    // MARK: - helpers

    static func withPrefix(_ x: Double, _ digits: Int, separator: String, unit: String) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        let prefixes: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        let a = abs(x)
        for (scale, prefix) in prefixes where a >= scale * 0.9995 {
            return significant(x / scale, digits) + separator + prefix + unit
        }
        return significant(x, digits) + (unit.isEmpty ? "" : separator + unit)
    }

    /// "1.500" → "1.5", "2.000" → "2"; text without a point is left alone.
    public static func trimZeros(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t == "-0" ? "0" : t
    }
}

/// How a chart writes the values of one axis: tick labels (`tick`, precise to the tick step) and value
/// labels and tooltips (`value`, for people).
public enum ValueFormat: Sendable, Equatable {
    /// Plain numbers; the unit belongs in the axis label.
    case number
    /// Whole numbers (epochs, batch sizes): ticks fall on integers only.
    case integer
    /// Values in milliseconds.
    case milliseconds
    /// Values in bytes.
    case bytes
    /// Fractions in [0, 1], written as percentages.
    case fraction
    /// Values already in percent (0–100).
    case percent
    /// Counts with SI suffixes (1.2k, 3.4M).
    case count
    /// Speed ratios (1.8×).
    case speedup

    public func value(_ x: Double) -> String {
        switch self {
        case .number: Format.significant(x)
        case .integer: Format.grouped(x)
        case .milliseconds: Format.milliseconds(x)
        case .bytes: Format.bytes(x)
        case .fraction: Format.percent(x)
        case .percent: Format.fixed(x, abs(x) < 10 ? 1 : 0) + "%"
        case .count: Format.compact(x)
        case .speedup: Format.speedup(x)
        }
    }

    /// A tick label, with as many decimals as the tick step needs (d3's `precisionFixed`).
    public func tick(_ x: Double, step: Double) -> String {
        let decimals = step > 0 && step.isFinite ? max(0, -Int(floor(log10(step) + 1e-9))) : 0
        switch self {
        case .number, .milliseconds:
            return abs(x) >= 10_000 ? Format.compact(x) : (decimals == 0 ? Format.grouped(x) : Format.fixed(x, decimals))
        case .integer: return Format.grouped(x)
        case .bytes: return Format.bytes(x)
        case .fraction:
            let d = step > 0 && step.isFinite ? max(0, -Int(floor(log10(step * 100) + 1e-9))) : 0
            return Format.fixed(x * 100, d) + "%"
        case .percent: return Format.fixed(x, decimals) + "%"
        case .count: return Format.compact(x)
        case .speedup: return Format.trimZeros(Format.fixed(x, max(decimals, 0))) + "×"
        }
    }
}
