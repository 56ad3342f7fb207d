import CPUBackend
import GraphCore
import Foundation
import Optimize

/// A composable list of IR rewrites, then optional fine-tuning: what `pneumo optimize` applies.
///
/// ```json
/// {"name": "compact",
///  "steps": [{"rewrite": "remove-interpolation"}, {"rewrite": "low-rank", "energy": 0.8},
///            {"rewrite": "prune-channels", "fraction": 0.25}],
///  "fine_tune": {"epochs": 3, "learning_rate": 1e-4},
///  "distill": {"temperature": 4, "alpha": 0.7}}
/// ```
/// Rewrites: `remove-interpolation`, `fold-batchnorm`, `low-rank` (`rank`, `fraction` or `energy`),
/// `depthwise-separable`, `group-convolutions` (`groups`), `prune-channels` (`fraction`),
/// `share-parameters`, `round-weights` (`dtype`: `fp16` or `bf16`), `quantize-int8` (`samples`: calibration
/// images, default 512; `weight_bits`: 7, the default, or 8).
///
/// `quantize-int8` is post-training quantization and must be the last step: it runs after any fine-tuning,
/// calibrates activation ranges on `samples` training images (evenly spaced), and rewrites the model with
/// `Int8Quantization` (fake-quantize nodes, weights on per-channel int8 grids). The checkpoint and the ONNX
/// file (QuantizeLinear/DequantizeLinear pairs) then run in INT8 on our runtime and on ONNX Runtime. Weights are
/// 7-bit by default (−63…63, `Int8WeightRange.reduced`): ONNX Runtime's int8 kernels on CPUs without VNNI (most
/// clinic CPUs) add u8·s8 product pairs in saturating 16-bit arithmetic, which 8-bit weights overflow, and a file
/// does not know where it will run. `weight_bits: 8` is for fleets that all have VNNI; our runtime keeps 7-bit weights
/// exactly on those CPUs and rounds 8-bit ones to 7 bits on the others.
///
/// `distill` (optional; needs `fine_tune` with `epochs` > 0) makes the fine-tuning knowledge distillation
/// from the checkpoint's model as it was before the rewrites (the teacher, run in inference mode on the
/// student's own training batches): loss = `alpha`·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − `alpha`)·CE,
/// T = `temperature` > 0, `alpha` ∈ [0, 1] (0: plain cross-entropy; 1: the teacher alone). Without it the
/// fine-tuning is plain cross-entropy on the labels.
public struct Recipe: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var rewrite: String
        public var rank: Int?
        public var fraction: Double?
        public var energy: Double?
        public var groups: Int?
        public var dtype: String?
        /// `quantize-int8`: calibration images.
        public var samples: Int?
        /// `quantize-int8`: 7 (the default) or 8 (`Int8WeightRange`).
        public var weight_bits: Int?

        public init(_ rewrite: String, rank: Int? = nil, fraction: Double? = nil, energy: Double? = nil, groups: Int? = nil,
                    dtype: String? = nil, samples: Int? = nil, weight_bits: Int? = nil) {
            self.rewrite = rewrite; self.rank = rank; self.fraction = fraction; self.energy = energy; self.groups = groups
            self.dtype = dtype; self.samples = samples; self.weight_bits = weight_bits
        }

        /// `quantize-int8`'s weight range (`weight_bits`, validated; without it, `defaultInt8WeightRange`).
        public var int8WeightRange: Int8WeightRange {
            switch weight_bits { case 8: .full; case 7: .reduced; default: Self.defaultInt8WeightRange }
        }

        /// INT8 weights of a file when nothing says otherwise: 7-bit, which every x86 runtime computes exactly (above).
        public static let defaultInt8WeightRange = Int8WeightRange.reduced
    }

    public struct FineTune: Codable, Sendable, Equatable {
        public var epochs: Int
        public var learning_rate: Double?
        public init(epochs: Int, learning_rate: Double? = nil) { self.epochs = epochs; self.learning_rate = learning_rate }
    }

    /// Distillation from the model before the rewrites (see above).
    public struct Distill: Codable, Sendable, Equatable {
        public var temperature: Double
        public var alpha: Double
        public init(temperature: Double, alpha: Double) { self.temperature = temperature; self.alpha = alpha }
    }

    public var name: String
    public var steps: [Step]
    public var fine_tune: FineTune?
    public var distill: Distill? = nil

    public init(name: String, steps: [Step], fine_tune: FineTune? = nil, distill: Distill? = nil) {
        self.name = name; self.steps = steps; self.fine_tune = fine_tune; self.distill = distill
    }

    public static let rewrites = ["remove-interpolation", "fold-batchnorm", "low-rank", "depthwise-separable", "group-convolutions",
                                  "prune-channels", "share-parameters", "round-weights", "quantize-int8"]

    /// Recipes by name: `exact` changes nothing a model computes (batch-norm folding); the others trade
    /// a measured output change, recovered by fine-tuning, for compute; `compact-distill` is `compact`
    /// recovered by distillation from the model before the rewrites instead of by the labels alone.
    public static let named: [String: Recipe] = [
        "exact": Recipe(name: "exact", steps: [Step("fold-batchnorm")], fine_tune: nil),
        "int8": Recipe(name: "int8", steps: [Step("quantize-int8")], fine_tune: nil),
        "native": Recipe(name: "native", steps: [Step("remove-interpolation")], fine_tune: FineTune(epochs: 2, learning_rate: 1e-4)),
        "lowrank": Recipe(name: "lowrank", steps: [Step("remove-interpolation"), Step("low-rank", energy: 0.9)],
                          fine_tune: FineTune(epochs: 3, learning_rate: 1e-4)),
        "compact": Recipe(name: "compact", steps: [Step("remove-interpolation"), Step("low-rank", energy: 0.8),
                                                   Step("prune-channels", fraction: 0.25)],
                          fine_tune: FineTune(epochs: 3, learning_rate: 1e-4)),
        "compact-distill": Recipe(name: "compact-distill", steps: [Step("remove-interpolation"), Step("low-rank", energy: 0.8),
                                                                   Step("prune-channels", fraction: 0.25)],
                                  fine_tune: FineTune(epochs: 3, learning_rate: 1e-4), distill: Distill(temperature: 4, alpha: 0.7)),
    ]

    /// A named recipe, or a JSON file.
    public static func load(_ nameOrPath: String) throws -> Recipe {
        if let r = named[nameOrPath] { return r }
        let url = URL(fileURLWithPath: nameOrPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EngineError.invalid("recipe", "'\(nameOrPath)' is neither a recipe name (\(named.keys.sorted().joined(separator: ", "))) nor a file")
        }
        let recipe: Recipe
        do { recipe = try JSONDecoder().decode(Recipe.self, from: Data(contentsOf: url)) } catch {
            throw EngineError.invalid("recipe", "\(url.path): not a recipe (\(error))")
        }
        try recipe.validate()
        return recipe
    }

    public func validate() throws {
        for (i, s) in steps.enumerated() {
            func fail(_ m: String) -> EngineError { .invalid("recipe step \(i + 1) (\(s.rewrite))", m) }
            guard Self.rewrites.contains(s.rewrite) else { throw fail("unknown rewrite; known: \(Self.rewrites.joined(separator: ", "))") }
            if let f = s.fraction, !(f > 0 && f < 1) { throw fail("fraction must be in (0, 1), got \(f)") }
            if let e = s.energy, !(e > 0 && e <= 1) { throw fail("energy must be in (0, 1], got \(e)") }
            if let r = s.rank, r < 1 { throw fail("rank must be positive") }
            if s.rewrite == "group-convolutions", (s.groups ?? 0) < 2 { throw fail("needs groups ≥ 2") }
            if s.rewrite == "round-weights", !["fp16", "bf16"].contains(s.dtype ?? "") { throw fail("dtype must be fp16 or bf16") }
            if s.rewrite == "prune-channels", s.fraction == nil { throw fail("needs a fraction") }
            if s.rewrite == "quantize-int8", i != steps.count - 1 { throw fail("must be the last step (it runs after fine-tuning)") }
            if let n = s.samples, n < 1 { throw fail("samples must be positive, got \(n)") }
            if let b = s.weight_bits, b != 7 && b != 8 { throw fail("weight_bits must be 7 or 8, got \(b)") }
            if s.weight_bits != nil, s.rewrite != "quantize-int8" { throw fail("weight_bits applies to quantize-int8 only") }
        }
        if let f = fine_tune, f.epochs < 0 { throw EngineError.invalid("recipe", "fine_tune.epochs must be non-negative") }
        if let d = distill {
            guard d.temperature > 0, d.temperature.isFinite else {
                throw EngineError.invalid("recipe", "distill.temperature must be positive, got \(d.temperature)")
            }
            guard d.alpha >= 0, d.alpha <= 1 else { throw EngineError.invalid("recipe", "distill.alpha must be in [0, 1], got \(d.alpha)") }
            guard (fine_tune?.epochs ?? 0) > 0 else {
                throw EngineError.invalid("recipe", "distill needs fine_tune with epochs > 0: distillation is how the fine-tuning learns")
            }
        }
    }

    /// Applies one step.
    public static func apply(_ s: Step, _ graph: Graph, _ parameters: ParameterStore) throws -> (graph: Graph, parameters: ParameterStore, layers: [String]) {
        func from(_ r: RewriteResult) -> (Graph, ParameterStore, [String]) { (r.graph, r.parameters, r.layers) }
        switch s.rewrite {
        case "remove-interpolation": return from(try ArchitectureRewrites.removeInterpolation(graph, parameters))
        case "fold-batchnorm":
            let (g, p) = try InferenceRewrites.foldBatchNorm(graph, parameters)
            return (g, p, [])
        case "low-rank":
            let choice: RankChoice = s.rank.map { .fixed($0) } ?? s.fraction.map { .fraction($0) } ?? .energy(s.energy ?? 0.9)
            return from(try ArchitectureRewrites.lowRank(graph, parameters, rank: choice))
        case "depthwise-separable": return from(try ArchitectureRewrites.depthwiseSeparable(graph, parameters))
        case "group-convolutions": return from(try ArchitectureRewrites.groupConvolutions(graph, parameters, groups: s.groups ?? 2))
        case "prune-channels": return from(try ArchitectureRewrites.pruneChannels(graph, parameters, fraction: s.fraction ?? 0.25))
        case "share-parameters": return from(try ArchitectureRewrites.shareParameters(graph, parameters))
        case "quantize-int8":
            throw EngineError.invalid("recipe", "quantize-int8 needs calibration images: ModelOptimizer applies it after fine-tuning")
        case "round-weights":
            let (g, p) = try InferenceRewrites.roundWeights(graph, parameters, to: s.dtype == "fp16" ? .float16 : .bfloat16)
            return (g, p, [])
        default:
            throw EngineError.invalid("recipe", "unknown rewrite '\(s.rewrite)'")
        }
    }
}
