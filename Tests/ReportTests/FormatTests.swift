import Testing
@testable import Charts

/// Numbers for people; every expected string is written out.
struct FormatTests {
    @Test(arguments: [
        (0.0123, "12.3 µs"), (0.85, "850 µs"), (1.0, "1 ms"), (1.234, "1.23 ms"), (12.345, "12.3 ms"),
        (123.4, "123 ms"), (1234, "1.23 s"), (0, "0 ms"), (75_000, "1 min 15 s"),
    ] as [(Double, String)])
    func milliseconds(_ ms: Double, _ expected: String) {
        #expect(Format.milliseconds(ms) == expected)
    }

    @Test(arguments: [
        (512.0, "512 B"), (1536, "1.5 KB"), (3_250_000, "3.1 MB"), (104_857_600, "100 MB"),
        (1_073_741_824, "1 GB"), (1_020_000, "996 KB"), (1_048_064, "1 MB"),
    ] as [(Double, String)])
    func bytes(_ b: Double, _ expected: String) {
        #expect(Format.bytes(b) == expected)
    }

    @Test func megabytesAreMebibytes() {
        #expect(Format.megabytes(42.5) == "42.5 MB")
        #expect(Format.megabytes(0.5) == "512 KB")
    }

    @Test(arguments: [
        (0.98123, "98.1%"), (1.0, "100.0%"), (0, "0.0%"), (0.0004, "0.0%"), (-0.0004, "0.0%"),
    ] as [(Double, String)])
    func percent(_ f: Double, _ expected: String) {
        #expect(Format.percent(f) == expected)
    }

    @Test func signedPercent() {
        #expect(Format.signedPercent(0.123) == "+12.3%")
        #expect(Format.signedPercent(-0.04) == "-4.0%")
        #expect(Format.signedPercent(0) == "0.0%")
        #expect(Format.signedPercent(0.00001) == "0.0%")
    }

    @Test(arguments: [
        (950.0, "950"), (999.6, "1k"), (1234, "1.23k"), (2_500_000, "2.5M"), (3e9, "3G"), (12, "12"), (0.5, "0.5"),
        (-4200, "-4.2k"),
    ] as [(Double, String)])
    func compact(_ x: Double, _ expected: String) {
        #expect(Format.compact(x) == expected)
    }

    @Test func operationsAndRatios() {
        #expect(Format.flops(3.2e8) == "320 MFLOP")
        #expect(Format.flops(1.5e9) == "1.5 GFLOP")
        #expect(Format.flops(3_836_000) == "3.84 MFLOP")
        #expect(Format.macs(1.6e8) == "160 MMAC")
        #expect(Format.speedup(1.847) == "1.85×")
        #expect(Format.speedup(31.24) == "31.2×")
        #expect(Format.speedup(2) == "2×")
        #expect(Format.speedup(945.5) == "946×")
        #expect(Format.throughput(2345.6) == "2.35k samples/s")
    }

    @Test func significantAndGrouped() {
        #expect(Format.significant(0.012345) == "0.0123")
        #expect(Format.significant(1.5) == "1.5")
        #expect(Format.significant(9.996) == "10")
        #expect(Format.significant(12345.6) == "12,346")
        #expect(Format.grouped(1_234_567) == "1,234,567")
        #expect(Format.grouped(-1234) == "-1,234")
        #expect(Format.grouped(999) == "999")
        #expect(Format.fixed(-0.0001, 2) == "0.00")
        #expect(Format.fixed(.nan, 2) == "–")
        #expect(Format.seconds(7300) == "2 h 1 min")
        #expect(Format.seconds(41.5) == "41.5 s")
    }

    @Test func ticksUseTheStepsPrecision() {
        #expect(ValueFormat.number.tick(0.30000000000000004, step: 0.1) == "0.3")
        #expect(ValueFormat.number.tick(1500, step: 500) == "1,500")
        #expect(ValueFormat.number.tick(25_000, step: 5000) == "25k")
        #expect(ValueFormat.fraction.tick(0.95, step: 0.05) == "95%")
        #expect(ValueFormat.fraction.tick(0.955, step: 0.005) == "95.5%")
        #expect(ValueFormat.milliseconds.tick(2.5, step: 0.5) == "2.5")
        #expect(ValueFormat.count.tick(2e6, step: 5e5) == "2M")
        #expect(ValueFormat.percent.tick(40, step: 10) == "40%")
        #expect(ValueFormat.speedup.tick(10, step: 5) == "10×")
        #expect(ValueFormat.speedup.tick(0.5, step: 0.5) == "0.5×")
    }

    @Test func svgNumbersAreShortAndStable() {
        #expect(svgNumber(1.0) == "1")
        #expect(svgNumber(1.005) == "1.01" || svgNumber(1.005) == "1") // binary 1.005 sits just below; either is stable
        #expect(svgNumber(12.3456) == "12.35")
        #expect(svgNumber(-0.001) == "0")
        #expect(svgNumber(.infinity) == "0")
        #expect(svgNumber(100.10) == "100.1")
    }
}
