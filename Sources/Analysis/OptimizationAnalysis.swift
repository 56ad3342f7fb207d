import CPUBackend
import GraphCore
import Foundation
import Models
import Optimize
import Profile
import Runtime

/// The spec's step-7 analysis (`analyze_*_potential`, mixed precision, batch scenarios) done twice per
/// technique: estimated from the IR with the spec's rules of thumb, then applied for real as an IR
/// rewrite (`ArchitectureRewrites`), compiled by the runtime and measured — params and MACs exactly,
/// latency, throughput and planned memory by timing `InferencePlan`s, and the output change on a fixed
/// random batch where the rewrite should keep the function.
public enum OptimizationAnalysis {
    public struct Options: Sendable {
        /// Timed batch-1 runs per model (the minimum is reported, see `ModelMeasurement`); larger batches run fewer times.
        public var runs = 20
        public var warmup = 3
        /// The batch size for throughput (the spec's batch processing scenario).
        public var throughputBatch = 64
        /// Batch sizes of the batching analysis.
        public var batchSizes = [1, 8, 32, 64]
        /// Groups for grouped convolutions (the spec's default 2).
        public var groups = 2
        /// Rank of each factorized convolution as a fraction of its full rank (the spec's `rank_ratio`).
        public var rankFraction = 0.25
        /// Output channels pruned from each prunable convolution.
        public var pruneFraction = 0.5
        /// Samples in the fixed random batch for output checks.
        public var checkBatch = 4
        public var seed: UInt64 = 7
        /// Freshly initialised models have identity batch-norms (γ=1, β=0, μ=0, σ²=1), for which folding is
        /// trivially exact; this draws them at random (γ, σ² ∈ [0.5, 1.5], β, μ ~ N(0, 0.1²)) first, so the
        /// folding and casting checks mean something. Leave off for trained checkpoints.
        public var randomizeBatchNorm = false
        /// The seam for reduced-precision plans the runtime does not compile itself: BF16 is measured with
        /// `InferencePlan(precision: .bf16)` where the CPU has AVX-512 BF16 or AMX; for FP16 (or BF16 on other
        /// CPUs) pass a factory here and that row gets a measured speedup, memory and throughput, not only the
        /// output change of the cast weights.
        public var precisionPlan: (@Sendable (_ graph: Graph, _ parameters: ParameterStore, _ inputShape: [Int], _ dtype: DType) throws
            -> InferencePlan)?
        /// Preprocessed images `[N] + sampleShape` to calibrate INT8 quantization on (training images, ideally);
        /// nil calibrates on random normal inputs, which times INT8 truthfully but says little about its accuracy.
        public var calibrationImages: Tensor?
        /// Progress lines (technique names as they start).
        public var progress: (@Sendable (String) -> Void)?
        public init() {}
    }

    /// Analyzes `graph` (input `inputName` of `[N] + sampleShape`, first output the logits). Takes about a dozen model compilations and
    /// timings; with `runs` 20, ResNet-18 at 64 px takes well under a minute on two cores.
    public static func run(name: String, graph: Graph, parameters: ParameterStore, inputName: String = "image", sampleShape: [Int],
                           options: Options = Options()) throws -> AnalysisReport {
        var parameters = parameters
        if options.randomizeBatchNorm { parameters = try randomizedBatchNorm(graph, parameters, seed: options.seed) }
        options.progress?("baseline")
        let context = try AnalysisContext(graph: graph, parameters: parameters, inputName: inputName, sampleShape: sampleShape,
                                          options: options)
        let steps: [(String, () throws -> TechniqueAnalysis)] = [
            ("interpolation removal", context.interpolationRemoval),
            ("grouped convolutions", context.groupedConvolutions),
            ("depthwise-separable convolutions", context.depthwiseSeparable),
            ("inverted residuals", context.invertedResiduals),
            ("low-rank factorization", context.lowRankFactorization),
            ("channel organization", context.channelOrganization),
            ("parameter sharing", context.parameterSharing),
            ("channel pruning", context.channelPruning),
            ("batch-norm folding", context.batchNormFolding),
            ("mixed precision (FP16)", { try context.mixedPrecision(.float16) }),
            ("mixed precision (BF16)", { try context.mixedPrecision(.bfloat16) }),
            ("INT8 quantization", context.int8Quantization),
        ]
        var techniques: [TechniqueAnalysis] = []
        for (label, step) in steps {
            options.progress?(label)
            techniques.append(try step())
        }
        options.progress?("batching")
        let (batching, points) = try context.batching()
        techniques.append(batching)
        // JSON has no NaN or infinity: a detail that could not be computed is left out.
        for i in techniques.indices { techniques[i].details = techniques[i].details.filter { $0.value.isFinite } }
        let base = context.base
        var report = AnalysisReport(
            model: name, input_size: sampleShape.last ?? 0, channels: sampleShape.first ?? 0, threads: CPUDevice.threadCount,
            device: CPUInfo.description, throughput_batch: options.throughputBatch,
            baseline: BaselineSummary(parameters: base.parameters, macs_per_sample: base.macs,
                                      flops_per_sample: ComputeConvention.flops(macs: base.macs), latency_ms: base.latencyMs,
                                      throughput_samples_per_s: base.throughput, planned_bytes: base.plannedBytes,
                                      weight_bytes: base.weightBytes, activation_bytes: base.arenaBytes, time_share: context.share),
            techniques: techniques, batching: points)
        report.findings = KeyFindings.derive(from: report)
        return report
    }

    /// Batch-norm tensors drawn at random (see `Options.randomizeBatchNorm`); everything else unchanged.
    public static func randomizedBatchNorm(_ graph: Graph, _ parameters: ParameterStore, seed: UInt64) throws -> ParameterStore {
        var p = parameters
        var rng = SeededRandom(seed: seed &+ 0xB4)
        for node in graph.nodes {
            guard case .batchNorm2d = node.op else { continue }
            for (k, id) in node.inputs.dropFirst().enumerated() {
                let name: String
                switch graph[id].op {
                case .parameter(let n), .buffer(let n): name = n
                default: continue
                }
                try p.withMutableScalars(name) { s in
                    for i in s.indices {
                        switch k {
                        case 0, 3: s[i] = 0.5 + rng.nextUniform()          // γ, σ²
                        default: s[i] = 0.1 * rng.nextNormal()             // β, μ
                        }
                    }
                }
            }
        }
        return p
    }
}
