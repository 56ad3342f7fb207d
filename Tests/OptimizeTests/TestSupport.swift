import Analysis
import Models
import NN
@testable import Optimize
import Profile
import Testing
import TestSupport
@testable import CPUBackend

/// Shared helpers of the rewrite tests. Outputs are compared through the executor (oneDNN kernels,
/// inference mode) with a tolerance relative to the reference output's largest magnitude.
enum Support {
    /// Exact rewrites agree to this, relative to max |y| (float32 reassociation across ~20 layers).
    static let exactTolerance = 1e-4

    /// ResNet-18 at width 0.25 (stage widths 16, 32, 64, 128: every block conv has ≥16 input channels),
    /// with batch-norm statistics drawn at random so that inference is not the identity normalisation.
    static func resnet(width: Double = 0.25, size: Int = 32, upsampleTo: Int? = nil, seed: UInt64 = 3) throws -> ModelGraph {
        var m = try ModelGraph(ResNet18(inChannels: 3, width: width, upsampleTo: upsampleTo), inputShape: [1, 3, size, size], seed: seed)
        m.parameters = try OptimizationAnalysis.randomizedBatchNorm(m.graph, m.parameters, seed: seed)
        return m
    }

    static func input(_ shape: [Int], seed: UInt64 = 11) -> Tensor { TestData.normal(shape, seed: seed) }

    static func logits(_ graph: Graph, _ parameters: ParameterStore, _ x: Tensor) throws -> [Float] {
        var p = parameters, rng = SeededRandom(seed: 0)
        var g = graph
        if let id = g.inputID("image") { g.nodes[id.index].shape = x.shape }
        let pass = try Executor(graph: g, backend: try DNNLBackend()).forward(feeds: ["image": x], parameters: &p, mode: .inference, rng: &rng)
        return pass[g.outputs[0]]!.scalars
    }

    /// `max |a − b| / max |b|`.
    static func change(_ a: [Float], _ b: [Float]) -> Double {
        let scale = Double(b.map(abs).max() ?? 1)
        return Double(zip(a, b).map { abs($0 - $1) }.max() ?? .infinity) / max(scale, 1e-12)
    }

    /// Output change of a rewrite on a fixed batch of two.
    static func outputChange(_ before: ModelGraph, _ after: RewriteResult, size: Int? = nil) throws -> Double {
        let s = size ?? before.inputShape[2]
        let x = input([2, before.inputShape[1], s, s])
        return change(try logits(after.graph, after.parameters, x), try logits(before.graph, before.parameters, x))
    }

    static func compute(_ graph: Graph, _ parameters: ParameterStore, size: Int, channels: Int = 3) throws -> ComputeProfile {
        try ComputeProfile(graph: graph, parameters: parameters, sampleShape: [channels, size, size])
    }

    /// Batch-1 MACs of each node.
    static func macs(_ graph: Graph, size: Int, channels: Int = 3) throws -> [Int] {
        let shapes = try graph.inferShapes(inputs: ["image": [1, channels, size, size]])
        return graph.nodes.indices.map { GraphCost.macs(of: $0, in: graph, shapes: shapes) }
    }

    /// Rewrites the values of parameter `name` with `body(index, old) -> new`.
    static func edit(_ parameters: inout ParameterStore, _ name: String, _ body: (Int, Float) -> Float) throws {
        try parameters.withMutableScalars(name) { s in for i in s.indices { s[i] = body(i, s[i]) } }
    }
}
