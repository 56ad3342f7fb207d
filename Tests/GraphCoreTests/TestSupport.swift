import Foundation
import Testing
import TestSupport
@testable import GraphCore

// Helpers of the graph core op tests: central-difference gradients and the PyTorch fixtures written by
// scripts/make_engine_fixtures.py (seeded inputs and `expectClose` are TestSupport's).

// MARK: losses

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
        // tensor_ops: the op and its attributes.
        var op: String?
        var beta: Double?
        var axis: Int?
        var axes: [Int]?
        var keep_dims: Bool?
        var permutation: [Int]?
        var begin: [Int]?
        var end: [Int]?
        var mode: String?
        var value: Double?
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
