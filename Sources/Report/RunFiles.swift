/// # The run directory
///
/// `pneumo pipeline` (and each command with its `--json` output redirected) writes one directory per run;
/// `pneumo report --run DIR` reads it. Every file is optional: a missing one makes its section of the
/// report say "not run"; one that cannot be decoded makes it say why. Keys are snake_case as written
/// below (the confusion matrix keeps `Metrics.ConfusionMatrix`'s camelCase). Unknown keys are ignored,
/// so writers may add fields. Numbers are JSON numbers; "fraction" means a value in [0, 1]; `?` marks a
/// key that may be absent or null.
///
/// | file | written by | contents |
/// |---|---|---|
/// | `data.json` | `pneumo data --json` | `DataFile` |
/// | `samples.svg` | `pneumo data --samples` | an SVG image grid, embedded as is |
/// | `history.json` | `pneumo train` | `[EpochRecord]`, one per epoch |
/// | `eval.json` | `pneumo eval --json` | `EvalFile` (the baseline's, in a pipeline) |
/// | `eval_optimized.json` | `pneumo eval --json` | `EvalFile` of the optimized model |
/// | `profile.json` | `pneumo profile --json` | a `ProfileFile`, or an array of them (one per model) |
/// | `profile_baseline.json`, `profile_optimized.json` | `pneumo profile --json` | `ProfileFile` |
/// | `analysis.json` | `pneumo analyze --json` | `AnalysisFile` |
/// | `sla_baseline.json`, `sla_optimized.json`, `sla_optimized_int8.json` (optional) | `pneumo sla --json` | `SLAFile` |
///
/// ```
/// data.json      {file?, image_size?, splits: {train, val, test: null | {total, normal, pneumonia,
///                 imbalance_ratio?, pixel_mean?, pixel_std?}}, loading?: {seconds, subset?, notes?: [text]}}
/// history.json   [{epoch, learning_rate, train_loss, train_accuracy, val_loss, val_accuracy, val_auc, seconds}]
///                 (accuracies and AUC are fractions; seconds is the epoch's wall time)
/// eval*.json     {split, samples, auc, ci95?: {auc?: {lower, upper}}, loss,
///                 thresholds: [{threshold, sensitivity, specificity, precision, f1, accuracy,
///                               confusion: {truePositives, falsePositives, trueNegatives, falseNegatives},
///                               ci95?: {sensitivity?, specificity?, precision?, accuracy?: {lower, upper}}}],
///                 target?: {target_sensitivity, chosen_on, rule?, threshold, sensitivity, specificity, precision, f1,
///                           accuracy, confusion, ci95?},
///                 calibration?: {temperature, temperature_source, brier, ece, brier_uncalibrated, ece_uncalibrated,
///                                bins: [{lower, upper, count, mean_predicted?, observed_rate?, observed_ci95?}]},
///                 operating_curve?: [{threshold, sensitivity, sensitivity_ci95?, specificity, specificity_ci95?}],
///                 roc?: [{fpr, tpr, threshold?}]}   (threshold null for the (0, 0) point, whose threshold is +∞)
///                 (ci95: 95% intervals, Wilson's for proportions and DeLong's for the AUC; rule: "val-sensitivity"
///                 or "wilson-lower-bound", absent in files from before rules, which used the first; calibration:
///                 the reported split's calibrated P(pneumonia) in equal-width bins, temperature_source "checkpoint"
///                 or "none"; operating_curve: the VAL split at thresholds 0, 0.01, …, 1)
/// profile*.json  {model, macs_per_sample, flops_per_sample, gflops_per_sample?, parameters,
///                 peak_memory_bytes?: {planned?, measured?},
///                 latency_ms?: {mean, median, p95, std}          (batch 1, milliseconds)
///                 latency_samples_ms?: [ms, …]                  (raw batch-1 timings, one per run)
///                 throughput_samples_per_s?,
///                 operation_breakdown?: {op type: percent of time, 0–100},
///                 layers?: [{name, op, macs}]                   (MACs per sample, in graph order)
///                 sweep?: [{batch, latency_ms, samples_per_s}]}  (latency_ms: one whole batch)
/// analysis.json  {techniques: [{name, needs_retraining,
///                               estimated: {macs_reduction?, params_reduction?, speedup?},
///                               measured?: {macs_reduction?, params_reduction?, speedup?, max_output_change?}}]}
///                 (reductions are fractions removed: 0.4 = 40% fewer; speedup is old time / new time)
/// sla_*.json     {gflops_per_sample, macs_per_sample?, flops_per_sample?, peak_memory_mb, latency_ms, amortized_latency_ms, throughput_samples_per_s,
///                 sensitivity, specificity, auc, threshold?, pass, device?, threads?,
///                 sensitivity_ci95?, specificity_ci95?, auc_ci95?: {lower, upper}, threshold_rule?, temperature?,
///                 checks: [{name, target, measured, unit, margin?, pass, ci95?: {lower, upper}, interval_crosses_target?}]}
///                 (target: a number, or a text such as "< 3"; margin: the fraction of the target by which
///                 the check passes, negative when it fails, (target − measured) / target for an upper
///                 bound and (measured − target) / target for a lower one, from which the report shows a
///                 numeric target as "< 3" or "> 2000"; unit "ms", "MB" (MiB), "GFLOPs", "samples/s" or
///                 free text; unit "" or "fraction" with target and measured in [0, 1] is shown as a
///                 percentage; peak_memory_mb in MiB; interval_crosses_target: the check passes on its estimate
///                 but its 95% interval reaches below the target)
/// ```
/// Compute: `macs_per_sample` counts multiply-accumulates, `flops_per_sample` is 2 × MACs, and `gflops_per_sample`
/// is the spec's convention, MACs / 10⁹ (thop's: 1 MAC = 1 FLOP). Profiles written before that convention had
/// 2 × MACs under `gflops_per_sample`, so the report derives the spec's figure from `macs_per_sample` wherever a
/// file has it.
import Foundation

/// `data.json`: the class balance and pixel statistics of each split.
public struct DataFile: Codable, Sendable, Equatable {
    public struct Split: Codable, Sendable, Equatable {
        public var total: Int
        public var normal: Int
        public var pneumonia: Int
        /// Majority / minority count; null when a class is empty.
        public var imbalance_ratio: Double?
        /// On the [0, 1] scale.
        public var pixel_mean: Double?
        public var pixel_std: Double?
    }

    public struct Splits: Codable, Sendable, Equatable {
        public var train: Split?
        public var val: Split?
        public var test: Split?
    }

    /// How the run loaded its images (`Data.DataLoadingReport`).
    public struct Loading: Codable, Sendable, Equatable {
        public var seconds: Double
        public var subset: Int?
        public var notes: [String]?
    }

    public var file: String?
    public var image_size: Int?
    public var splits: Splits
    public var loading: Loading?
}

/// One epoch in `history.json` (the same keys as `Train.EpochRecord`).
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learning_rate: Double
    public var train_loss: Double
    public var train_accuracy: Double
    public var val_loss: Double
    public var val_accuracy: Double
    /// null where the val split holds one class (AUC undefined); such epochs are left out of the AUC chart.
    public var val_auc: Double?
    public var seconds: Double
}

/// Counts at one threshold (`Metrics.ConfusionMatrix`'s keys).
public struct Confusion: Codable, Sendable, Equatable {
    public var truePositives: Int
    public var falsePositives: Int
    public var trueNegatives: Int
    public var falseNegatives: Int
}

/// A 95% interval `[lower, upper]` (`Metrics.ConfidenceInterval`'s keys).
public struct Interval: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }
}

/// `eval.json`: the clinical metrics on one split (`Train.ClinicalEvaluation`, plus the ROC curve).
public struct EvalFile: Codable, Sendable, Equatable {
    /// The Wilson 95% intervals at one threshold; F1 has none. Each is null where its denominator is 0.
    public struct Intervals: Codable, Sendable, Equatable {
        public var sensitivity: Interval?
        public var specificity: Interval?
        public var precision: Interval?
        public var accuracy: Interval?
    }

    public struct Row: Codable, Sendable, Equatable {
        public var threshold: Double
        public var sensitivity: Double
        public var specificity: Double
        public var precision: Double
        public var f1: Double
        public var accuracy: Double
        public var confusion: Confusion
        public var ci95: Intervals?
    }

    /// The operating point: the largest threshold meeting `rule` for `target_sensitivity` on `chosen_on`
    /// (val), measured on the reported split.
    public struct Target: Codable, Sendable, Equatable {
        public var target_sensitivity: Double
        public var chosen_on: String
        /// "val-sensitivity" or "wilson-lower-bound"; absent in files from before rules (val-sensitivity).
        public var rule: String?
        public var threshold: Double
        public var sensitivity: Double
        public var specificity: Double
        public var precision: Double
        public var f1: Double
        public var accuracy: Double
        public var confusion: Confusion
        public var ci95: Intervals?
    }

    public struct AUCInterval: Codable, Sendable, Equatable {
        /// DeLong's 95% interval.
        public var auc: Interval?
    }

    /// How well the reported split's P(pneumonia) matches the observed rate, after and before the
    /// temperature stored with the model.
    public struct Calibration: Codable, Sendable, Equatable {
        /// One point of the reliability diagram: the images whose P(pneumonia) lies in `[lower, upper)`.
        public struct Bin: Codable, Sendable, Equatable {
            public var lower: Double
            public var upper: Double
            public var count: Int
            /// Null for an empty bin, as are the two below.
            public var mean_predicted: Double?
            public var observed_rate: Double?
            /// Wilson 95% interval of `observed_rate`.
            public var observed_ci95: Interval?
        }

        /// Logits are divided by it before the sigmoid; 1 where none is stored.
        public var temperature: Double
        /// "checkpoint" (fitted on val when training) or "none".
        public var temperature_source: String
        public var brier: Double
        public var ece: Double
        public var brier_uncalibrated: Double
        public var ece_uncalibrated: Double
        public var bins: [Bin]
    }

    /// Sensitivity and specificity on the val split at one threshold: how the operating point was found.
    public struct OperatingPoint: Codable, Sendable, Equatable {
        public var threshold: Double
        public var sensitivity: Double
        public var sensitivity_ci95: Interval?
        public var specificity: Double
        public var specificity_ci95: Interval?
    }

    public struct ROCPoint: Codable, Sendable, Equatable {
        public var fpr: Double
        public var tpr: Double
        /// `score ≥ threshold` ⇒ pneumonia; null where it is +∞ (the (0, 0) point).
        public var threshold: Double?
    }

    public var split: String
    public var samples: Int
    public var auc: Double
    public var ci95: AUCInterval?
    public var loss: Double
    public var thresholds: [Row]
    public var target: Target?
    public var calibration: Calibration?
    public var operating_curve: [OperatingPoint]?
    public var roc: [ROCPoint]?
}

/// `profile*.json`: what one model costs, counted on the graph and measured on the runtime.
public struct ProfileFile: Codable, Sendable, Equatable {
    public struct PeakMemory: Codable, Sendable, Equatable {
        /// The static memory plan's peak, bytes.
        public var planned: Double?
        /// The allocator's high-water mark, bytes.
        public var measured: Double?
    }

    public struct Latency: Codable, Sendable, Equatable {
        public var mean: Double
        public var median: Double
        public var p95: Double
        public var std: Double
    }

    public struct Layer: Codable, Sendable, Equatable {
        public var name: String
        public var op: String
        public var macs: Double
    }

    public struct SweepPoint: Codable, Sendable, Equatable {
        public var batch: Int
        /// Time for one whole batch, milliseconds.
        public var latency_ms: Double
        public var samples_per_s: Double
    }

    public var model: String
    public var macs_per_sample: Double
    public var flops_per_sample: Double
    public var parameters: Double

    /// The spec's GFLOPs per sample (MACs / 10⁹), whatever convention the file's own `gflops_per_sample` had.
    public var specGFLOPs: Double { macs_per_sample / 1e9 }
    public var peak_memory_bytes: PeakMemory?
    public var latency_ms: Latency?
    public var latency_samples_ms: [Double]?
    public var throughput_samples_per_s: Double?
    /// Op type → percent of the measured time (0–100).
    public var operation_breakdown: [String: Double]?
    public var layers: [Layer]?
    public var sweep: [SweepPoint]?
}

/// `analysis.json`: each optimization technique's estimated effect, and its measured one where applied.
public struct AnalysisFile: Codable, Sendable, Equatable {
    /// Each field null where the technique does not say (FP16 removes no MACs; its speed-up is measured).
    public struct Estimated: Codable, Sendable, Equatable {
        public var macs_reduction: Double?
        public var params_reduction: Double?
        public var speedup: Double?
    }

    public struct Measured: Codable, Sendable, Equatable {
        public var macs_reduction: Double?
        public var params_reduction: Double?
        public var speedup: Double?
        /// Largest absolute change of the model's output (probability) over the checked inputs.
        public var max_output_change: Double?
    }

    public struct Technique: Codable, Sendable, Equatable {
        public var name: String
        public var estimated: Estimated
        public var measured: Measured?
        public var needs_retraining: Bool
    }

    /// The analysis's ranking and roadmap (`KeyFindings`); nil in files written before them.
    public struct Findings: Codable, Sendable, Equatable {
        public struct Ranked: Codable, Sendable, Equatable {
            public var rank: Int
            public var name: String
            public var kind: String
            public var benefit: Double?
            public var basis: String
        }
        public struct Phase: Codable, Sendable, Equatable {
            public var phase: Int
            public var title: String
            public var techniques: [String]
            public var summary: String
        }
        public var benefit_definition: String
        public var ranking: [Ranked]
        public var top_two: [String]
        public var roadmap: [Phase]
        public var combination_rule: String
    }

    public var techniques: [Technique]
    public var findings: Findings?
}

/// `sla_baseline.json` / `sla_optimized.json`: the spec's service-level checks for one model.
public struct SLAFile: Codable, Sendable, Equatable {
    /// A check's target, as a number or as text ("< 3").
    public enum Target: Codable, Sendable, Equatable {
        case number(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let x = try? c.decode(Double.self) { self = .number(x) } else { self = .text(try c.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let x): try c.encode(x)
            case .text(let s): try c.encode(s)
            }
        }
    }

    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var target: Target
        public var measured: Double
        public var unit: String
        public var margin: Double?
        public var pass: Bool
        /// The measured value's 95% interval (Wilson's, on the sensitivity check).
        public var ci95: Interval?
        /// The check passes on its estimate, but its interval reaches below the target: a PASS the data
        /// cannot yet tell from a FAIL.
        public var interval_crosses_target: Bool?
    }

    /// The spec's convention (MACs / 10⁹) in every scorecard pneumo wrote; `specGFLOPs` prefers `macs_per_sample`.
    public var gflops_per_sample: Double
    public var macs_per_sample: Double?
    public var flops_per_sample: Double?
    public var peak_memory_mb: Double
    public var latency_ms: Double
    public var amortized_latency_ms: Double
    public var throughput_samples_per_s: Double
    public var sensitivity: Double
    public var specificity: Double
    public var auc: Double
    public var threshold: Double?
    public var pass: Bool
    public var device: String?
    public var threads: Int?
    public var checks: [Check]
    public var sensitivity_ci95: Interval?
    public var specificity_ci95: Interval?
    public var auc_ci95: Interval?
    /// How the threshold was chosen on val (`EvalFile.Target.rule`).
    public var threshold_rule: String?
    /// The temperature applied to the model's probabilities (1: none stored).
    public var temperature: Double?

    /// The spec's GFLOPs per sample: from `macs_per_sample` where the file has it, else `gflops_per_sample`.
    public var specGFLOPs: Double { macs_per_sample.map { $0 / 1e9 } ?? gflops_per_sample }
}

/// `comparison.json`: two models' AUCs on the same images with DeLong's paired test (`Train.ModelComparison`).
public struct ComparisonFile: Codable, Sendable, Equatable {
    public struct Test: Codable, Sendable, Equatable {
        public var auc_a: Double
        public var auc_b: Double
        public var difference: Double
        public var difference_ci95: Interval
        public var z: Double
        public var p_value: Double
    }

    public var split: String
    public var samples: Int
    public var model_a: String
    public var model_b: String
    public var delong: Test
}
