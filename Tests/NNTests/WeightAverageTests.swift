import GraphCore
import Testing
@testable import NN

/// `WeightAverage` step by step against the recurrence written out by hand.
@Suite struct WeightAverageTests {
    func store(_ w: Float, _ buffer: Float) -> ParameterStore {
        var s = ParameterStore()
        s.declare("w", Tensor(scalar: w), trainable: true)
        s.declare("bn.running_mean", Tensor(scalar: buffer), trainable: false)
        return s
    }

    @Test func averagesParametersAndCopiesBuffers() throws {
        var average = try WeightAverage(decay: 0.5, parameters: store(0, 0))
        // d₀ = min(0.5, 1/10) = 0.1: 0.1·0 + 0.9·10 = 9.
        try average.update(from: store(10, 3))
        #expect(abs(average.shadow["w"]!.scalars[0] - 9) < 1e-6)
        #expect(average.shadow["bn.running_mean"]!.scalars[0] == 3)
        // d₁ = min(0.5, 2/11) = 2/11: (2/11)·9 + (9/11)·20.
        try average.update(from: store(20, 4))
        #expect(abs(average.shadow["w"]!.scalars[0] - (2.0 / 11 * 9 + 9.0 / 11 * 20)) < 1e-5)
        #expect(average.step == 2)
        // Far along, the decay is the configured one: 0.5·s + 0.5·θ.
        var late = try WeightAverage(decay: 0.5, parameters: store(4, 0), step: 100)
        try late.update(from: store(8, 0))
        #expect(abs(late.shadow["w"]!.scalars[0] - 6) < 1e-6)
    }

    @Test func restoresWhatItSaved() throws {
        var average = try WeightAverage(decay: 0.9, parameters: store(1, 0))
        try average.update(from: store(5, 2))
        var resumed = try WeightAverage(decay: 0.9, parameters: store(0, 0))
        try resumed.restore(step: average.step, tensors: Dictionary(uniqueKeysWithValues: average.trainableTensors.map { ($0.name, $0.tensor) }),
                            buffersFrom: store(5, 2))
        #expect(resumed.shadow["w"]!.scalars == average.shadow["w"]!.scalars)
        #expect(resumed.shadow["bn.running_mean"]!.scalars == [2] && resumed.step == 1)
        #expect(throws: EngineError.self) { try WeightAverage(decay: 1, parameters: store(0, 0)) }
    }
}
