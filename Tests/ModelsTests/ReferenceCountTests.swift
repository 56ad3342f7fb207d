import Foundation
import Testing
@testable import Models
import NN

/// Parameter counts, state-dict names and shapes, and conv + linear MACs of every named model (and some
/// option settings and a spec-file model) against PyTorch: Fixtures/models.json, written by
/// scripts/make_model_fixtures.py from torchvision (resnet18, the baseline, mobilenet_v2) and from the
/// script's PyTorch re-implementations (reduced-width and variant ResNet-18s, PneumoNet, the spec model).
/// Counting is exact: equality, no tolerance.
@Suite struct ReferenceCountTests {
    @Test func fixtureRecordsItsProvenance() {
        #expect(Fixtures.reference.generator.hasPrefix("torch "))
        #expect(Fixtures.reference.script == "scripts/make_model_fixtures.py")
        // Every family member is covered.
        let covered = Set(Fixtures.reference.models.filter(\.zoo).map(\.name))
        #expect(covered == Set(ModelZoo.names))
    }

    /// Parameters, buffers, state-dict names and shapes in order, and MACs at 28 and 64 px (the summary's
    /// totals too): one model build per size.
    @Test(arguments: Fixtures.reference.models)
    func countsMatchPyTorch(_ ref: ReferenceModel) throws {
        for size in [28, 64] {
            let shape = [1, ref.channels, size, size]
            let m = try ModelGraph(try ref.layer(), inputShape: shape)
            #expect(try GraphCost.forwardMACs(m.graph, inputs: ["image": shape]) == ref.macs[String(size)], "\(size) px")
            let summary = try ModelSummary(graph: m.graph, parameters: m.parameters, architecture: ref.name)
            #expect(summary.macs == ref.macs[String(size)], "\(size) px")
            #expect(summary.parameters == ref.parameters)
            guard size == 28 else { continue }
            #expect(m.parameters.trainableCount == ref.parameters)
            let buffers = m.parameters.bufferNames.reduce(0) { $0 + m.parameters[$1]!.count }
            #expect(buffers == ref.buffers)
            let ours = m.parameters.names.map { ReferenceModel.StateEntry(name: $0, shape: m.parameters[$0]!.shape) }
            #expect(ours.count == ref.stateDict.count)
            for (a, b) in zip(ours, ref.stateDict) where a != b {
                Issue.record("first difference: \(a.name) \(describe(a.shape)) vs PyTorch \(b.name) \(describe(b.shape))")
                break
            }
        }
    }

    /// The issue's torchvision figures, independent of the fixture file.
    @Test func mobileNetV2AtHalfWidthHasTorchvisionCounts() throws {
        let m = try ModelGraph(try ModelZoo.layer("mobilenetv2", options: ModelOptions(width: 0.5)), inputShape: [1, 3, 64, 64])
        #expect(m.parameters.trainableCount == 690_242)
        let macs = try GraphCost.forwardMACs(m.graph, inputs: ["image": [1, 3, 64, 64]])
        #expect((Double(macs) / 1e6 * 100).rounded() / 100 == 7.83)
    }
}
