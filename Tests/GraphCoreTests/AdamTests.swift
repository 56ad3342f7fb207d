import Testing
@testable import CPUBackend
@testable import GraphCore
import TestSupport

/// Adam's update on every backend against `torch.optim.Adam` / `AdamW` (adam.json, scripts/make_engine_fixtures.py),
/// and the vector kernel (`AdamKernel`, each build this CPU runs) against the scalar reference `AdamUpdate.apply`.
@Suite("Adam update")
struct AdamTests {
    /// A few steps from float32 inputs against float64: the rounding of p (|p| ≤ 4) and of the moments, a few ulps
    /// each (measured worst ~5e-7); a wrong bias correction or decay moves p by ≥ 1e-4.
    static let tolerance = Tolerance(abs: 2e-6, rel: 2e-6)

    @Test(arguments: FixtureFile.caseNames("adam"))
    func matchesPyTorch(_ name: String) throws {
        let c = try FixtureFile.loadCase("adam", name)
        let a = c.attributes
        let (first, steps) = (a.first_step!, a.steps!)
        for backend in fixtureBackends {
            var (p, m, v) = (try c.tensor("param"), try c.tensor("exp_avg"), try c.tensor("exp_avg_sq"))
            for k in 0..<steps {
                let update = AdamUpdate(learningRate: Float(a.learning_rate!), weightDecay: Float(a.weight_decay!),
                                        beta1: Float(a.beta1!), beta2: Float(a.beta2!), epsilon: Float(a.epsilon!),
                                        decoupled: a.decoupled!, step: first + k)
                #expect(try backend.adamStep(&p, gradient: try c.tensor("grad\(k)"), firstMoment: &m, secondMoment: &v, update))
            }
            let at = "adam \(name) on \(backend.name)"
            expectClose(p, try c.tensor("updated_param"), Self.tolerance, "\(at): param")
            expectClose(m, try c.tensor("updated_exp_avg"), Self.tolerance, "\(at): exp_avg")
            expectClose(v, try c.tensor("updated_exp_avg_sq"), Self.tolerance, "\(at): exp_avg_sq")
        }
    }

    /// Random state for `count` elements: p, g of O(1), moments as after some steps.
    static func state(_ count: Int, seed: UInt64) -> (p: [Float], g: [Float], m: [Float], v: [Float]) {
        var rng = SeededRandom(seed: seed)
        let p = Tensor.randomNormal([count], using: &rng).scalars, g = Tensor.randomNormal([count], using: &rng).scalars
        let m = Tensor.randomNormal([count], std: 0.1, using: &rng).scalars
        let v = Tensor.randomNormal([count], using: &rng).scalars.map { $0 * $0 + 1e-3 }
        return (p, g, m, v)
    }

    static let builds: [KernelISA?] = [nil] + KernelISA.allCases.filter(\.isSupported)

    /// Counts below, at and past one vector of 8 and 16, and with a tail; Adam and AdamW; three steps.
    @Test(arguments: builds, [1, 7, 8, 15, 16, 17, 37, 1000, 4099])
    func kernelIsBitIdenticalToScalarReference(isa: KernelISA?, count: Int) throws {
        for decoupled in [false, true] {
            var (p, g, m, v) = Self.state(count, seed: UInt64(count))
            var (rp, rm, rv) = (p, m, v)
            for step in 1...3 {
                let update = AdamUpdate(learningRate: 1e-2, weightDecay: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                        decoupled: decoupled, step: step)
                let ok = AdamKernel.step(update, isa: isa, p: &p, g: g, m: &m, v: &v, count: count)
                let ref = update.apply(p: &rp, g: g, m: &rm, v: &rv, 0..<count)
                #expect(ok && ref)
                g = g.map { $0 * -0.5 + 0.1 }
            }
            let at = "\(isa.map(\.rawValue) ?? "scalar") count \(count) decoupled \(decoupled)"
            #expect(p.map(\.bitPattern) == rp.map(\.bitPattern), "\(at): param")
            #expect(m.map(\.bitPattern) == rm.map(\.bitPattern), "\(at): exp_avg")
            #expect(v.map(\.bitPattern) == rv.map(\.bitPattern), "\(at): exp_avg_sq")
        }
    }

    /// NaN and ∞ are reported wherever they sit: in a full vector or in the scalar tail.
    @Test(arguments: builds, [3, 20, 36])
    func nonFiniteGradientIsReported(isa: KernelISA?, at index: Int) throws {
        for bad in [Float.nan, .infinity, -.infinity] {
            var (p, g, m, v) = Self.state(37, seed: 5)
            g[index] = bad
            let update = AdamUpdate(learningRate: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decoupled: false, step: 1)
            #expect(!AdamKernel.step(update, isa: isa, p: &p, g: g, m: &m, v: &v, count: 37), "\(bad) at \(index)")
        }
    }

    /// The CPU backend's update, split over the OpenMP team (more than one chunk of 65,536), equals the reference
    /// backend's element for element.
    @Test func cpuBackendSplitOverThreadsEqualsReference() throws {
        for backend in fastBackends {
            let count = 300_007
            let s = Self.state(count, seed: 9)
            let g = try Tensor(shape: [count], scalars: s.g)
            var (p, m, v) = (try Tensor(shape: [count], scalars: s.p), try Tensor(shape: [count], scalars: s.m), try Tensor(shape: [count], scalars: s.v))
            var (rp, rm, rv) = (p, m, v)
            let update = AdamUpdate(learningRate: 3e-4, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decoupled: false, step: 7)
            #expect(try backend.adamStep(&p, gradient: g, firstMoment: &m, secondMoment: &v, update))
            #expect(try ReferenceBackend().adamStep(&rp, gradient: g, firstMoment: &rm, secondMoment: &rv, update))
            expectClose(p, rp, .exact, "\(backend.name): param")
            expectClose(m, rm, .exact, "\(backend.name): exp_avg")
            expectClose(v, rv, .exact, "\(backend.name): exp_avg_sq")
        }
    }
}
