import Testing
import Train

/// `pneumo bench train`'s JSON names one sample's forward compute as every JSON does (#21): MACs and FLOPs at 2 per
/// MAC; its GFLOP/s stay a hardware rate, and its summary says which convention they use.
@Suite struct TrainingBenchmarkTests {
    @Test func countsOneSamplesForwardByName() throws {
        var bench = TrainingBenchmark()
        bench.model = "pneumonet"; bench.inputSize = 28; bench.channels = 1; bench.batch = 2; bench.steps = 1; bench.warmup = 0
        let r = try bench.run(backend: testBackend)
        // PneumoNet at 28 px: 3,865,792 conv + linear MACs per image (ModelSummaryTests counts them layer by layer).
        #expect(r.macs_per_sample == 3_865_792 && r.flops_per_sample == 2 * 3_865_792)
        #expect(r.summary().contains("GFLOP per step: forward + both gradients, 2 FLOPs per MAC)"))
    }
}
