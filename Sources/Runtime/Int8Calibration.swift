import CPUBackend
import GraphCore
import Optimize

/// Activation ranges measured on sample inputs: what an INT8 plan quantizes its activations with.
///
/// Each tensor is quantized symmetrically per tensor, `x ≈ scale · q`: `q` is u8 (`scale = max|x| / 255`)
/// where calibration saw no negative value (ReLU outputs), s8 (`scale = max|x| / 127`) otherwise. Weights
/// are quantized per output channel when the plan is compiled (`Int8WeightRange`: 8-bit, or 7-bit where the
/// CPU lacks VNNI), so they need no calibration. Ranges are indexed by node of the graph
/// that `InferenceRewrites.prepareForInference` makes (batch-norm folded, dropout removed) — the graph a plan
/// compiles.
public struct Int8Calibration: Sendable {
    public struct Range: Sendable, Equatable {
        /// Largest |x| seen.
        public var maxAbs: Float
        /// Smallest x seen (≥ 0 means the tensor can be stored unsigned).
        public var min: Float

        public var isNonNegative: Bool { min >= 0 }
        /// The quantization step of this tensor as u8 (non-negative) or s8.
        public var scale: Float {
            let s = maxAbs / (isNonNegative ? 255 : 127)
            return s > 0 && s.isFinite ? s : 1
        }
    }

    /// Per node of the prepared graph; nil for parameters and nodes not computed.
    public let ranges: [Range?]
    /// Per node of the prepared graph with an NCHW value: the mean of each channel over the samples (and its
    /// pixels), which INT8 plans correct convolution biases with (`PlanBuilder.correctedBias`).
    public let channelMeans: [[Float]?]
    public let sampleCount: Int
    /// Where the samples came from ("random normal inputs", or a file and split), for reports.
    public let source: String
    /// Whether the samples were random inputs (`random`): true timings, ranges that say nothing of real images.
    public let isRandom: Bool

    /// Runs the prepared graph over `samples` (`[N] + sampleShape`, preprocessed like the model's inputs)
    /// in batches of `batchSize` (every value of a batch is kept at once, so small batches bound the memory) and
    /// records every intermediate tensor's range; the ranges do not depend on the batch size.
    public init(graph: Graph, parameters: ParameterStore, inputName: String = "image", samples: Tensor,
                batchSize: Int = 32, source: String, isRandom: Bool = false) throws {
        guard samples.rank >= 2, samples.shape[0] > 0 else {
            throw EngineError.invalid("int8 calibration", "needs at least one sample, got \(describe(samples.shape))")
        }
        guard !samples.hasNonFinite else {
            throw EngineError.invalid("int8 calibration", "the calibration samples contain NaN or infinity")
        }
        var (g, p) = try InferenceRewrites.prepareForInference(graph, parameters)
        let executor = Executor(graph: g, backend: Devices.preferred.backend)
        var ranges = [Range?](repeating: nil, count: g.nodes.count)
        var sums = [[Double]?](repeating: nil, count: g.nodes.count)
        var rng = SeededRandom(seed: 0)
        let n = samples.shape[0]
        let input = g.inputID(inputName)?.index
        for start in stride(from: 0, to: n, by: batchSize) {
            let x = samples.rows(start..<min(n, start + batchSize))
            let pass = try executor.forward(feeds: [inputName: x], parameters: &p, mode: .inference, rng: &rng, keepValues: true)
            for (i, node) in g.nodes.enumerated() where !node.op.isLeaf || i == input {
                guard let v = pass.values[i] else { continue }
                var lo = Float.infinity, hi = -Float.infinity
                v.withUnsafeBufferPointer { b in for e in b { lo = Swift.min(lo, e); hi = Swift.max(hi, e) } }
                let r = Range(maxAbs: Swift.max(abs(lo), abs(hi)), min: lo)
                ranges[i] = ranges[i].map { Range(maxAbs: Swift.max($0.maxAbs, r.maxAbs), min: Swift.min($0.min, r.min)) } ?? r
                if v.rank == 4 {   // each image's channel mean, summed
                    let (c, hw) = (v.shape[1], v.shape[2] * v.shape[3])
                    var s = sums[i] ?? [Double](repeating: 0, count: c)
                    v.contiguous().withUnsafeBufferPointer { b in
                        for plane in 0..<(b.count / hw) {
                            s[plane % c] += b[(plane * hw)..<((plane + 1) * hw)].reduce(0.0) { $0 + Double($1) } / Double(hw)
                        }
                    }
                    sums[i] = s
                }
            }
        }
        self.ranges = ranges
        channelMeans = sums.map { $0?.map { Float($0 / Double(n)) } }
        sampleCount = n
        self.source = source
        self.isRandom = isRandom
    }

    /// Calibration on `count` standard-normal inputs: for speed figures only (the ranges say nothing
    /// about real images, so neither does the accuracy of a plan built on them).
    public static func random(graph: Graph, parameters: ParameterStore, inputName: String = "image", sampleShape: [Int],
                              count: Int = 64, seed: UInt64 = 0) throws -> Int8Calibration {
        var r = SeededRandom(seed: seed)
        return try Int8Calibration(graph: graph, parameters: parameters, inputName: inputName,
                                   samples: .randomNormal([count] + sampleShape, using: &r), source: "\(count) random normal inputs",
                                   isRandom: true)
    }
}
