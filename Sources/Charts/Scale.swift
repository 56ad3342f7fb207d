import Foundation

/// Tick placement as in d3-array's `ticks`/`tickIncrement`/`nice`: steps of 1, 2 or 5 × 10^k, chosen so
/// that about `count` ticks cover the interval.
public enum Ticks {
    /// The step for about `count` ticks over [start, stop] (start ≤ stop), encoded as d3 encodes it: a
    /// positive value is the step itself; a negative value −n means a step of 1/n (so that steps below 1
    /// are exact reciprocals, 0.1 = 1/10, and tick values i/n print without binary noise).
    public static func increment(_ start: Double, _ stop: Double, count: Int) -> Double {
        let step = (stop - start) / Double(max(count, 1))
        guard step > 0, step.isFinite else { return 0 }
        let power = floor(log10(step))
        let error = step / pow(10, power)
        let factor: Double = error >= 50.0.squareRoot() ? 10 : error >= 10.0.squareRoot() ? 5 : error >= 2.0.squareRoot() ? 2 : 1
        return power >= 0 ? factor * pow(10, power) : -pow(10, -power) / factor
    }

    /// The tick step itself (always positive; 0 for an empty interval).
    public static func step(_ start: Double, _ stop: Double, count: Int) -> Double {
        let (lo, hi) = (min(start, stop), max(start, stop))
        let inc = increment(lo, hi, count: count)
        return inc >= 0 ? inc : -1 / inc
    }

    /// About `count` round values in [start, stop], in the order start → stop. [start] when they are equal.
    public static func ticks(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        guard start.isFinite, stop.isFinite, count > 0 else { return [] }
        if start == stop { return [start] }
        let reverse = stop < start
        let (lo, hi) = reverse ? (stop, start) : (start, stop)
        let inc = increment(lo, hi, count: count)
        guard inc != 0, inc.isFinite else { return [] }
        var out: [Double] = []
        if inc > 0 {
            let (i0, i1) = (ceil(lo / inc), floor(hi / inc))
            if i0 <= i1 { out = stride(from: i0, through: i1, by: 1).map { $0 * inc } }
        } else {
            let n = -inc
            let (i0, i1) = (ceil(lo * n), floor(hi * n))
            if i0 <= i1 { out = stride(from: i0, through: i1, by: 1).map { $0 / n } }
        }
        return reverse ? out.reversed() : out
    }

    /// [start, stop] widened to multiples of the tick step (d3's `nice`), so that the axis ends on a tick.
    public static func nice(_ start: Double, _ stop: Double, count: Int) -> (Double, Double) {
        guard start.isFinite, stop.isFinite, start < stop, count > 0 else { return (start, stop) }
        var (lo, hi) = (start, stop)
        var previous: Double?
        for _ in 0..<10 {
            let inc = increment(lo, hi, count: count)
            if inc == previous || inc == 0 { break }
            if inc > 0 {
                lo = floor(lo / inc) * inc; hi = ceil(hi / inc) * inc
            } else {
                lo = ceil(lo * inc) / inc; hi = floor(hi * inc) / inc
            }
            previous = inc
        }
        return (lo, hi)
    }
}

/// A map from data values (the domain) to pixels (the range); the range may run backwards (a y axis
/// runs up from the bottom of the plot).
public protocol ChartScale: Sendable {
    var domain: (Double, Double) { get }
    var range: (Double, Double) { get }
    func callAsFunction(_ x: Double) -> Double
    /// Tick values inside the domain, about `count` of them.
    func ticks(_ count: Int) -> [Double]
    /// The spacing of the ticks, for formatting them (0 where it varies).
    func tickStep(_ count: Int) -> Double
}

/// y = r0 + (x − d0) / (d1 − d0) · (r1 − r0). A zero-width domain maps everything to the middle of the range.
public struct LinearScale: ChartScale, Equatable {
    public var domain: (Double, Double)
    public var range: (Double, Double)

    public init(domain: (Double, Double), range: (Double, Double)) {
        self.domain = domain; self.range = range
    }

    public func callAsFunction(_ x: Double) -> Double {
        let span = domain.1 - domain.0
        if span == 0 || !span.isFinite { return (range.0 + range.1) / 2 }
        return range.0 + (x - domain.0) / span * (range.1 - range.0)
    }

    /// The domain value at pixel `y`.
    public func invert(_ y: Double) -> Double {
        let span = range.1 - range.0
        if span == 0 { return domain.0 }
        return domain.0 + (y - range.0) / span * (domain.1 - domain.0)
    }

    public func ticks(_ count: Int = 5) -> [Double] { Ticks.ticks(domain.0, domain.1, count: count) }
    public func tickStep(_ count: Int = 5) -> Double { Ticks.step(domain.0, domain.1, count: count) }

    /// The same scale with its domain widened to round tick values.
    public func niced(_ count: Int = 5) -> LinearScale {
        if domain.0 <= domain.1 {
            let (a, b) = Ticks.nice(domain.0, domain.1, count: count)
            return LinearScale(domain: (a, b), range: range)
        }
        let (a, b) = Ticks.nice(domain.1, domain.0, count: count)
        return LinearScale(domain: (b, a), range: range)
    }

    public static func == (a: LinearScale, b: LinearScale) -> Bool {
        a.domain == b.domain && a.range == b.range
    }
}

/// y = r0 + (log x − log d0) / (log d1 − log d0) · (r1 − r0), for positive domains (batch sizes 1…512).
/// Ticks are the integer powers of `base` in the domain, thinned to about `count`.
public struct LogScale: ChartScale, Equatable {
    public var domain: (Double, Double)
    public var range: (Double, Double)
    public var base: Double

    /// `domain` must be positive; non-positive bounds are clamped to the smallest positive double.
    public init(domain: (Double, Double), range: (Double, Double), base: Double = 10) {
        self.domain = (max(domain.0, .leastNormalMagnitude), max(domain.1, .leastNormalMagnitude))
        self.range = range
        self.base = base > 1 ? base : 10
    }

    public func callAsFunction(_ x: Double) -> Double {
        let (l0, l1) = (log(domain.0), log(domain.1))
        if l0 == l1 { return (range.0 + range.1) / 2 }
        let lx = log(max(x, .leastNormalMagnitude))
        return range.0 + (lx - l0) / (l1 - l0) * (range.1 - range.0)
    }

    /// The powers of `base` in the domain; in base 10 over at most three decades also their 2× and 5×
    /// (1, 2, 5, 10, 20, 50…), so that a short log axis still has a handful of ticks.
    public func ticks(_ count: Int = 5) -> [Double] {
        let (lo, hi) = (min(domain.0, domain.1), max(domain.0, domain.1))
        let e0 = Int(floor(log(lo) / log(base) + 1e-9)), e1 = Int(ceil(log(hi) / log(base) - 1e-9))
        func power(_ e: Int) -> Double { e >= 0 ? pow(base, Double(e)) : 1 / pow(base, Double(-e)) }
        func inside(_ v: Double) -> Bool { v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
        var values: [Double] = []
        if base == 10 && e1 - e0 <= 3 {
            for e in e0...max(e0, e1) {
                for m in [1.0, 2, 5] {
                    let v = e >= 0 ? m * power(e) : m / pow(10, Double(-e))
                    if inside(v) { values.append(v) }
                }
            }
        } else {
            let all = (e0...max(e0, e1)).map(power).filter(inside)
            let every = max(1, Int(ceil(Double(all.count) / Double(max(count, 1) * 2))))
            values = stride(from: 0, to: all.count, by: every).map { all[$0] }
        }
        if values.isEmpty { values = [lo] }
        return domain.0 <= domain.1 ? values : values.reversed()
    }

    /// The domain widened to round values: powers of the base, or in base 10 the nearest 1, 2 or 5 × 10^k.
    public func niced() -> LogScale {
        func round(_ x: Double, up: Bool) -> Double {
            let e = floor(log(x) / log(base) + 1e-9)
            let p = pow(base, e)
            let steps: [Double] = base == 10 ? [1, 2, 5, 10] : [1, base]
            let candidates = steps.map { $0 * p }
            return up ? (candidates.first { $0 >= x * (1 - 1e-9) } ?? p * base) : (candidates.last { $0 <= x * (1 + 1e-9) } ?? p)
        }
        let (lo, hi) = (min(domain.0, domain.1), max(domain.0, domain.1))
        let (a, b) = (round(lo, up: false), round(hi, up: true))
        return LogScale(domain: domain.0 <= domain.1 ? (a, b) : (b, a), range: range, base: base)
    }

    public func tickStep(_ count: Int = 5) -> Double { 0 }

    public static func == (a: LogScale, b: LogScale) -> Bool {
        a.domain == b.domain && a.range == b.range && a.base == b.base
    }
}
