import Foundation
import Testing
import GraphCore
import Runtime
import Serving
import Train
import TestSupport

/// `InferenceBenchmark.agreement` (what `bench infer --agreement-data` reports): top-1 agreement and each model's
/// val AUC, scored with `logit₁ − logit₀`. A model against itself agrees everywhere with the same AUC; against the
/// same model with its logits negated (the head's weight and bias times −1) it agrees nowhere and its AUC is
/// 1 − the other's, which pins the score's orientation and the labels' order across batches (200 images: two
/// batches of the loader's 128).
@Suite struct AgreementTests {
    @Test func scoresAndLabelsLineUp() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let labels = (0..<200).map { UInt8($0 % 3 == 0 ? 1 : 0) }
        let data = dir.appendingPathComponent("val.npz")
        try Data(storedZip(splitMembers("val", labels: labels, h: 28, w: 28))).write(to: data)

        let m = try TinyModel().descriptor.graph(seed: 3)
        var negated = m.parameters
        for name in ["fc.1.weight", "fc.1.bias"] {
            let t = try #require(negated[name])
            try negated.set(name, try Tensor(shape: t.shape, scalars: t.scalars.map { -$0 }))
        }
        let runtime = { (p: ParameterStore) in Runtime(graph: m.graph, parameters: p, sampleShape: [1, 28, 28], precision: .fp32) }

        let same = try InferenceBenchmark.agreement(runtime(m.parameters), reference: runtime(m.parameters), data: data, shape: [1, 28, 28])
        #expect(same.top1 == 1)
        let auc = try #require(same.referenceAUC)
        #expect(same.auc == auc && auc > 0 && auc < 1, "AUC \(auc)")

        let flipped = try InferenceBenchmark.agreement(runtime(negated), reference: runtime(m.parameters), data: data, shape: [1, 28, 28])
        #expect(flipped.top1 == 0)
        #expect(flipped.referenceAUC == auc)
        #expect(abs(try #require(flipped.auc) - (1 - auc)) < 1e-12)
    }
}
