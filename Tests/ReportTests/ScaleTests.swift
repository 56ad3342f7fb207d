import Foundation
import Testing
@testable import Charts

/// Scales and ticks. Expected tick lists are d3-array 3's `ticks(start, stop, count)` / `nice` outputs
/// for the same arguments (worked by hand from its `tickIncrement` rule: 1, 2, 5 × 10^k with the
/// √50, √10, √2 thresholds).
struct ScaleTests {
    @Test func linearMapsDomainOntoRange() {
        let s = LinearScale(domain: (0, 10), range: (100, 300))
        #expect(s(0) == 100)
        #expect(s(10) == 300)
        #expect(s(2.5) == 150)
        #expect(s(-5) == 0)  // no clamping: outside the domain maps outside the range
        #expect(s.invert(150) == 2.5)
    }

    @Test func linearRunsBackwardsForYAxes() {
        let y = LinearScale(domain: (0, 1), range: (400, 40))
        #expect(y(0) == 400)
        #expect(y(1) == 40)
        #expect(y(0.5) == 220)
    }

    @Test func zeroWidthDomainMapsToTheMiddle() {
        let s = LinearScale(domain: (3, 3), range: (0, 100))
        #expect(s(3) == 50)
        #expect(s.ticks(5) == [3])
    }

    @Test(arguments: [
        (0.0, 1.0, 10, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        (0.0, 10.0, 5, [0, 2, 4, 6, 8, 10]),
        (-0.37, 1.93, 5, [0, 0.5, 1, 1.5]),
        (1.0, 1000.0, 5, [200, 400, 600, 800, 1000]),
        (0.0012, 0.0097, 4, [0.002, 0.004, 0.006, 0.008]),
        (-12.0, 47.0, 6, [-10, 0, 10, 20, 30, 40]),
        (10.0, 0.0, 5, [10, 8, 6, 4, 2, 0]),
        (0.4, 9.3, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ] as [(Double, Double, Int, [Double])])
    func niceTicks(start: Double, stop: Double, count: Int, expected: [Double]) {
        let ticks = Ticks.ticks(start, stop, count: count)
        #expect(ticks == expected, "ticks(\(start), \(stop), \(count))")
        // Ticks are exact decimals: 0.1, not 0.30000000000000004.
        for t in ticks { #expect(Double(Format.trimZeros(Format.fixed(t, 6)))! == t) }
    }

    @Test(arguments: [
        (0.13, 0.87, 5, 0.0, 1.0),
        (0.13, 0.87, 10, 0.1, 0.9),
        (3.7, 96.2, 5, 0.0, 100.0),
        (0.9412, 0.9891, 5, 0.94, 0.99),
        (-3.2, 7.9, 5, -4.0, 8.0),
        (412.0, 4871.0, 5, 0.0, 5000.0),
    ] as [(Double, Double, Int, Double, Double)])
    func niceDomains(start: Double, stop: Double, count: Int, lo: Double, hi: Double) {
        let (a, b) = Ticks.nice(start, stop, count: count)
        #expect(abs(a - lo) < 1e-12 && abs(b - hi) < 1e-12, "nice(\(start), \(stop), \(count)) = (\(a), \(b))")
        let scale = LinearScale(domain: (start, stop), range: (0, 1)).niced(count)
        #expect(scale.ticks(count).first == scale.domain.0)
        #expect(scale.ticks(count).last == scale.domain.1)
    }

    @Test func tickStepIsTheSpacing() {
        #expect(Ticks.step(0, 1, count: 10) == 0.1)
        #expect(Ticks.step(0, 10, count: 5) == 2)
        #expect(Ticks.step(1, 1000, count: 5) == 200)
    }

    @Test func logScaleMapsPowersEvenly() {
        let s = LogScale(domain: (1, 256), range: (0, 800), base: 2)
        #expect(abs(s(1) - 0) < 1e-9)
        #expect(abs(s(16) - 400) < 1e-9)
        #expect(abs(s(256) - 800) < 1e-9)
        #expect(s.ticks(5) == [1, 2, 4, 8, 16, 32, 64, 128, 256])
        let decades = LogScale(domain: (0.5, 20000), range: (0, 1), base: 10)
        #expect(decades.ticks(5) == [1, 10, 100, 1000, 10000])
    }

    @Test func logTicksThinOutOverManyDecades() {
        let s = LogScale(domain: (1, 1e20), range: (0, 1))
        let ticks = s.ticks(5)
        #expect(ticks.count <= 11)
        #expect(ticks.first == 1)
    }
}
