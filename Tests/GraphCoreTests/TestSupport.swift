import Foundation
import Testing
@testable import GraphCore

// Shared helpers of the graph core op tests: seeded inputs, element-wise comparison with a stated tolerance,
// central-difference gradients, and the PyTorch fixtures written by scripts/make_engine_fixtures.py.

// MARK: inputs

enum TestData {
    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return .randomNormal(shape, std: std, using: &rng)
    }

    static func uniform(_ shape: [Int], seed: UInt64, low: Float, high: Float) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return .randomUniform(shape, low: low, high: high, using: &rng)
    }

    /// Distinct values `gap` apart in a random order. No max-pool window holds a tie, and a
    /// finite-difference step smaller than `gap / 2` never changes which element is largest.
    static func distinct(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let n = shape.reduce(1, *)
        let order = Array(0..<n).shuffled(using: &rng)
        return try! Tensor(shape: shape, scalars: order.map { (Float($0) - Float(n) / 2) * gap })
    }

    /// Values in [low, high) kept at least `margin` away from each kink, so that a finite-difference
    /// step below `margin` never crosses one (ReLU at 0, ReLU6 at 0 and 6).
    static func awayFromKinks(_ shape: [Int], seed: UInt64, low: Float, high: Float, kinks: [Float],
                              margin: Float) -> Tensor {
        let t = uniform(shape, seed: seed, low: low, high: high)
        return try! Tensor(shape: shape, scalars: t.scalars.map { v in
            var v = v
            for k in kinks where abs(v - k) < margin { v = v < k ? k - margin : k + margin }
            return v
        })
    }
}

// MARK: comparison

/// `|actual − expected| ≤ abs + rel·|expected|`, element by element.
struct Tolerance: CustomStringConvertible, Sendable {
    var abs: Double
    var rel: Double
    init(abs: Double, rel: Double) { self.abs = abs; self.rel = rel }
    func admits(_ actual: Double, _ expected: Double) -> Bool {
        Swift.abs(actual - expected) <= abs + rel * Swift.abs(expected)
    }
    var description: String { "abs \(abs) + rel \(rel)" }
}

/// Checks shape and every element; one issue per tensor naming the worst element and how many fail.
func expectClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record("\(what): shape \(describe(actual.shape)), expected \(describe(expected.shape))",
                     sourceLocation: sourceLocation)
        return
    }
    expectClose(actual.scalars.map(Double.init), expected.scalars.map(Double.init), tolerance, what,
                shape: expected.shape, sourceLocation: sourceLocation)
}

func expectClose(_ actual: [Double], _ expected: [Double], _ tolerance: Tolerance, _ what: String,
                 shape: [Int]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var failures = 0, worst = -1, worstExcess = 0.0
    for i in actual.indices where !tolerance.admits(actual[i], expected[i]) || actual[i].isNaN {
        failures += 1
        let excess = abs(actual[i] - expected[i]) - tolerance.rel * abs(expected[i])
        if worst < 0 || excess > worstExcess || excess.isNaN { worst = i; worstExcess = excess }
    }
    if failures > 0 {
        let at = shape.map { " at \(describe(unravel(worst, $0)))" } ?? ""
        Issue.record("""
            \(what): \(failures) of \(actual.count) elements outside \(tolerance); worst\(at) (flat \(worst)): \
            got \(actual[worst]), expected \(expected[worst])
            """, sourceLocation: sourceLocation)
    }
}

/// Logical multi-index of flat row-major index `i`.
func unravel(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i, index = [Int](repeating: 0, count: shape.count)
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// Σ a·b accumulated in Double: the scalar loss whose gradient with respect to `a` is `b`.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "dot of \(a.shape) and \(b.shape)")
    return zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

// MARK: finite differences

/// Central differences of a scalar function of several tensors.
///
/// For each checked element j of input `k`: `(L(x + h·eⱼ) − L(x − h·eⱼ)) / (x₊ − x₋)`, where the
/// denominator is the step actually taken in float32 (computed in Double), so that rounding of `x ± eps`
/// does not bias the quotient. `loss` should accumulate in Double (see `dot`).
struct FiniteDifference {
    var eps: Float
    /// Tensors with more elements are checked at `maxElements` evenly spaced positions (always including
    /// the first and the last), to keep the naive reference kernels within the suite's time budget.
    var maxElements = 160

    func indices(_ count: Int) -> [Int] {
        guard count > maxElements else { return Array(0..<count) }
        return (0..<maxElements).map { $0 * (count - 1) / (maxElements - 1) }
    }

    /// The numeric gradient of `loss` with respect to `inputs[k]`, at `indices(count)`.
    func gradient(of loss: ([Tensor]) throws -> Double, at inputs: [Tensor], wrt k: Int) rethrows
        -> (indices: [Int], values: [Double]) {
        let base = inputs[k].scalars, shape = inputs[k].shape
        var args = inputs
        let checked = indices(base.count)
        var values: [Double] = []
        values.reserveCapacity(checked.count)
        for j in checked {
            var plus = base, minus = base
            plus[j] += eps
            minus[j] -= eps
            args[k] = try! Tensor(shape: shape, scalars: plus)
            let lp = try loss(args)
            args[k] = try! Tensor(shape: shape, scalars: minus)
            let lm = try loss(args)
            values.append((lp - lm) / (Double(plus[j]) - Double(minus[j])))
        }
        return (checked, values)
    }

    /// Compares `analytic[k]` (from a backward pass) with the numeric gradient for each `k` in `wrt`.
    func check(_ loss: ([Tensor]) throws -> Double, at inputs: [Tensor], analytic: [Tensor?], wrt: [Int],
               names: [String], _ tolerance: Tolerance, _ what: String,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        for k in wrt {
            guard let a = analytic[k] else {
                Issue.record("\(what): backward returned no gradient for \(names[k])", sourceLocation: sourceLocation)
                continue
            }
            guard a.shape == inputs[k].shape else {
                Issue.record("\(what): gradient of \(names[k]) has shape \(describe(a.shape)), input \(describe(inputs[k].shape))",
                             sourceLocation: sourceLocation)
                continue
            }
            let (idx, numeric) = try gradient(of: loss, at: inputs, wrt: k)
            let all = a.scalars
            expectClose(idx.map { Double(all[$0]) }, numeric, tolerance,
                        "\(what): d loss / d \(names[k]) (analytic vs central difference, eps \(eps))",
                        sourceLocation: sourceLocation)
        }
    }
}

// MARK: fixtures

/// One file of Tests/GraphCoreTests/Fixtures, written by scripts/make_engine_fixtures.py.
struct FixtureFile: Decodable {
    struct Attributes: Decodable {
        var stride: [Int]?
        var padding: [Int]?
        var dilation: [Int]?
        var groups: Int?
        var kernel: [Int]?
        var size: [Int]?
        var momentum: Double?
        var epsilon: Double?
        var temperature: Double?
        var alpha: Double?
    }
    struct FixtureTensor: Decodable {
        var shape: [Int]
        var data: [Double]
    }
    struct Case: Decodable, Sendable {
        var name: String
        var attributes: Attributes
        var tensors: [String: FixtureTensor]

        func tensor(_ key: String) throws -> Tensor {
            guard let t = tensors[key] else { throw FixtureError("case '\(name)' has no tensor '\(key)'") }
            return try Tensor(shape: t.shape, scalars: t.data.map { Float($0) })
        }
        func optionalTensor(_ key: String) throws -> Tensor? { tensors[key] == nil ? nil : try tensor(key) }
        func pair(_ v: [Int]?, default d: Int) -> Pair { v.map { Pair($0[0], $0[1]) } ?? Pair(d) }
    }
    var generator: String
    var script: String
    var op: String
    var cases: [Case]

    static func load(_ name: String) throws -> FixtureFile {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError("fixture \(name).json is missing; run scripts/make_engine_fixtures.py")
        }
        return try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url))
    }

    /// Case names, for `@Test(arguments:)` (a missing file yields no arguments, and the load test fails).
    static func caseNames(_ name: String) -> [String] { (try? load(name).cases.map(\.name)) ?? [] }

    static func loadCase(_ file: String, _ name: String) throws -> Case {
        guard let c = try load(file).cases.first(where: { $0.name == name }) else {
            throw FixtureError("\(file).json has no case '\(name)'")
        }
        return c
    }
}

extension FixtureFile.Attributes: Sendable {}
extension FixtureFile.FixtureTensor: Sendable {}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

// MARK: backends

/// The backends that must agree with `ReferenceBackend`, each under both input layouts.
let layouts: [Layout] = [.rowMajor, .channelsLast]

/// A 4-D tensor in `layout` (other ranks unchanged).
func laid(_ t: Tensor, _ layout: Layout) -> Tensor { t.rank == 4 ? t.converted(to: layout) : t }
