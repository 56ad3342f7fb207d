import ArgumentParser
import Data
import FileSafety
import Foundation
import ClinicalMetrics
import Deploy
import Pipeline
import Train

/// `pneumo pipeline`: the whole job, the README's main command.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run the whole job: data → baseline (train, evaluate, profile, analyse) → optimized model → ONNX → SLA scorecards → report.",
        discussion: """
            Writes data.json, samples.svg, history.json, eval.json, profile_*.json, analysis.json, *.onnx, sla_*.json and \
            report.html into --out. Follows the spec's defaults: the 64 px download (a --data file of another size is used \
            at its own size, said in the output), evaluation on test at 0.4 and 0.7 (val where the file has none, said), \
            profiles of 100 runs after 10 warm-ups on a batch of val images, the SLA's 98% sensitivity. --subset N uses \
            N images in all, 70/15/15% drawn from train/val/test, each stratified with a fixed seed, as the spec's \
            subset_size; the data-loading time is logged and is data.json's loading.seconds. \
            Also writes pipeline_state.json: the stages finished and how long each took. Run it again with the same --out and \
            settings after it was stopped, and it continues where it stopped. After the first few steps of each training stage it \
            prints that stage's remaining time and the job's.
            """)

    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Output directory.") var out: String
    @Option(name: .customLong("baseline-model"), help: "The baseline to start from.") var baselineModel = "baseline"
    @Option(name: .customLong("baseline-epochs"), parsing: .unconditional, help: "Epochs for the baseline (the spec's recipe: 10, with early stopping).") var baselineEpochs = 10
    @Option(name: .customLong("optimized-model"), help: "The efficient model to deploy.") var optimizedModel = "pneumonet"
    @Option(name: .customLong("optimized-channels"), help: "Input channels of the optimized model (1: grayscale as is).") var optimizedChannels = 1
    @Option(parsing: .unconditional, help: "Epochs for the optimized model (default: its recipe's, TrainingRecipe.default).") var epochs: Int?
    @Option(name: .customLong("train-subset"), help: "Use only the first N training images (quick runs; --subset is the spec's subset_size).") var trainSubset: Int?
    @OptionGroup var subset: SubsetOption
    @Option(name: .customLong("target-sensitivity"), help: "Sensitivity the operating threshold must reach on val (the SLA's 98%).") var targetSensitivity = SpecDefaults.targetSensitivity
    @Option(name: .customLong("threshold-rule"), help: "How the threshold is chosen on val: \(ThresholdRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var thresholdRule = ThresholdRule.wilsonLowerBound
    @Option(help: "Teachers of the optimized model (its own architecture and recipe, other seeds), trained first; it learns from their mean softmax. 0: trained alone.")
    var teachers = 3
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Flag(help: "Fewer timing runs than the spec's 100 after 10 warm-ups, and fewer batch sizes timed (the SLA's throughput at batch 64 only): quick runs; figures are noisier, and the profiles say so.") var quick = false
    @Flag(help: "Start over in an --out that holds a run (by default the run there is continued: finished stages are read back, a training stage continues from its last finished epoch).")
    var restart = false
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        for (flag, value) in [("--baseline-epochs", baselineEpochs), ("--epochs", epochs ?? 1), ("--optimized-channels", optimizedChannels)] where value < 1 {
            throw ValidationError("\(flag) must be a positive whole number, got \(value)")
        }
        if let trainSubset, trainSubset < 2 { throw ValidationError("--train-subset must be at least 2") }
        if trainSubset != nil, subset.total != nil {
            throw ValidationError("give --subset (N images over train/val/test) or --train-subset (the first N training images), not both")
        }
        guard teachers >= 0 else { throw ValidationError("--teachers must be 0 or more, got \(teachers)") }
        guard targetSensitivity > 0, targetSensitivity <= 1 else { throw ValidationError("--target-sensitivity must be in (0, 1]") }
        try OutputPath.directory(out, "--out")
    }

    /// Holds --out for the whole run, its trainers' subfolders included: a second writer is refused by name.
    func run() throws {
        try OutputLock.holding(URL(fileURLWithPath: out)) { try runPipeline() }
    }

    private func runPipeline() throws {
        let backend = try engine.makeBackend()
        let data: MedMNISTDataset
        let start = ContinuousClock.now
        do {
            data = try dataset.open(preferredSize: nil)
        } catch {
            // No dataset reachable: run what needs none, and say exactly what was skipped and how to fix it.
            FileHandle.standardError.write(Data("pipeline: no dataset: \(error)\n".utf8))
            var options = Pipeline.Options()
            options.baselineModel = baselineModel; options.optimizedModel = optimizedModel; options.optimizedChannels = optimizedChannels
            if quick { options.quicken() }
            let pipeline = Pipeline(options: options, output: URL(fileURLWithPath: out), backend: backend) {
                FileHandle.standardError.write(Data(("pipeline: " + $0 + "\n").utf8))
            }
            let skipped = try pipeline.runWithoutData(inputSize: dataset.dataSize ?? SpecDefaults.imageSize)
            print("ran without data: profiles, analysis, ONNX export and benchmarks on initialised weights, in \(out)")
            print("skipped: \(skipped.joined(separator: ", "))")
            print("to run them, give --data FILE (a MedMNIST .npz) or let pneumo download PneumoniaMNIST (see the error above for the URL and where to put the file)")
            throw ExitCode(2)
        }
        var options = Pipeline.Options()
        options.baselineModel = baselineModel; options.baselineEpochs = baselineEpochs
        options.optimizedModel = optimizedModel; options.optimizedChannels = optimizedChannels; options.optimizedEpochs = epochs
        options.trainSubset = trainSubset; options.subset = try subset.value; options.targetSensitivity = targetSensitivity; options.thresholdRule = thresholdRule
        options.teachers = teachers
        options.training.seed = seed
        options.restart = restart
        if quick { options.quicken() }
        var pipeline = Pipeline(options: options, output: URL(fileURLWithPath: out), backend: backend) {
            FileHandle.standardError.write(Data(("pipeline: " + $0 + "\n").utf8))
        }
        let interrupt = StopAfterEpoch("pipeline")
        pipeline.stopRequested = { interrupt.isRequested }
        let result: (baseline: SLAScorecard, optimized: SLAScorecard, report: URL)
        do {
            result = try pipeline.run(dataset: data, since: start)
        } catch let stopped as TrainingStopped {
            FileHandle.standardError.write(Data("pipeline: \(stopped); run the same command again to continue\n".utf8))
            throw ExitCode(130)
        } catch let stopped as PipelineStopped {
            FileHandle.standardError.write(Data("\(stopped); run the same command again to continue\n".utf8))
            throw ExitCode(130)
        }
        print(result.baseline.table())
        print("")
        print(result.optimized.table())
        print("")
        print("report: \(result.report.path)")
    }
}
