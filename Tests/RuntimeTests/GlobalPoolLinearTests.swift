import Testing
@testable import CPUBackend
import Models
import NN
@testable import GraphCore
@testable import Runtime
import TestSupport

/// The folded classifier head (`GlobalPoolLinear`) against the reference backend's global average pooling and
/// linear layer, and the plans that use it. Tolerance: 1e-5 relative to the logits' largest magnitude (sums of at
/// most a few thousand terms in another order). Batch 64 splits the images over the team; 24 channels leave a tail
/// after the 16-lane loops.
@Suite struct GlobalPoolLinearTests {
    @Test(arguments: [(1, 4, 4, 128, 2), (3, 2, 2, 512, 2), (2, 7, 7, 24, 5), (1, 1, 1, 16, 3), (64, 4, 4, 128, 2)])
    func matchesPoolingThenLinear(shape: (batch: Int, height: Int, width: Int, channels: Int, classes: Int)) throws {
        let (n, h, w, c, k) = shape
        var rng = SeededRandom(seed: 41)
        let x = Tensor.randomNormal([n, c, h, w], using: &rng)
        let weight = Tensor.randomNormal([k, c], std: 0.2, using: &rng)
        let bias = Tensor.randomNormal([k], using: &rng)
        let reference = ReferenceBackend()
        let pooled = try reference.globalAvgPool(x).reshaped([n, c])
        let expected = try reference.linear(pooled, weight: weight, bias: bias).scalars
        let head = try GlobalPoolLinear(batch: n, plane: h * w, channels: c, classes: k,
                                        weight: UnsafePointer(weight.contiguous().rawPointer.assumingMemoryBound(to: Float.self)),
                                        bias: UnsafePointer(bias.rawPointer.assumingMemoryBound(to: Float.self)))
        let workspace = AlignedBuffer(byteCount: head.workspaceBytes)
        let bound = try head.bind(workspace: workspace.pointer)
        var out = [Float](repeating: .nan, count: n * k)
        let xNHWC = x.converted(to: .channelsLast)
        try out.withUnsafeMutableBufferPointer {
            try head.run(input: xNHWC.rawPointer.assumingMemoryBound(to: Float.self), output: $0.baseAddress!, residual: nil, workspace: bound)
        }
        expectClose(out, expected, "N\(n) \(h)×\(w) C\(c) K\(k)", tolerance: 1e-5)
        withExtendedLifetime((weight, bias, workspace)) {}
    }

    /// fp32 plans run the head (pooling, flatten, dropout, linear) as one step; INT8 plans keep oneDNN's steps.
    @Test func fp32PlansFoldTheHead() throws {
        let m = try ModelGraph(try PneumoNet(inChannels: 1, widths: [16, 32, 64, 128]), inputShape: [1, 1, 28, 28], seed: 3)
        let plan = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [2, 1, 28, 28])
        #expect(plan.implementations.filter { $0.implementation == "pool+linear" }.count == 1)
        #expect(!plan.implementations.contains { $0.kind == .pooling })
        guard Precision.isSupported(.int8) else { return }
        let int8 = try InferencePlan(graph: m.graph, parameters: m.parameters, inputShape: [2, 1, 28, 28], precision: .int8,
                                     calibration: try Int8Calibration.random(graph: m.graph, parameters: m.parameters, inputName: "image",
                                                                             sampleShape: [1, 28, 28]))
        #expect(!int8.implementations.contains { $0.implementation == "pool+linear" })
    }
}
