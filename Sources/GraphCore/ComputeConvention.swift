/// How every output counts a model's compute, in one place.
///
/// The spec's "GFLOPs" (its < 0.4 GFLOPs SLA target, its thop-style profiler: 1.81 for the baseline at 64 px) count
/// one multiply-accumulate as one operation. Hardware FLOP counts take two (a multiply and an add). So that one
/// key never means both, every JSON carries the two counts by name, `macs_per_sample` and `flops_per_sample`
/// (= 2 × MACs), and `gflops_per_sample` is always the spec's: MACs / 10⁹. Tables and charts that show a GFLOPs
/// figure write `label` beside it.
public enum ComputeConvention {
    /// Written next to every per-sample GFLOPs figure.
    public static let label = "spec's convention: 1 MAC = 1 FLOP, as thop counts"

    /// The spec's GFLOPs per sample: MACs / 10⁹.
    public static func gflops(macs: Int) -> Double { Double(macs) / 1e9 }

    /// Floating-point operations at 2 per multiply-accumulate.
    public static func flops(macs: Int) -> Int { 2 * macs }
}
