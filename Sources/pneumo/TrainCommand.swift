import ArgumentParser
import Data
import GraphCore
import FileSafety
import Foundation
import Models
import Train

/// `pneumo train`: the spec's training recipe with checkpoints, early stopping and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on PneumoniaMNIST (default: the recipe cross-validation preferred; --recipe spec for the spec's TRAINING_CONFIG).",
        discussion: """
            Writes best.safetensors (with the temperature fitted on val), last.safetensors and history.json to --out. \
            --resume continues a killed run from last.safetensors to the same result. Without --input-size the model \
            takes the data's size: the spec's 64 px download by default, or what --data holds (a 28 px file: 28, said \
            in the output). --subset N trains on 70% of N train images and validates on 15% of N val images \
            (stratified, a fixed seed). The data-loading time is printed (and is data_loading in --json). --init FILE starts from given weights \
            (a resumed run keeps its own).
            """)

    @Option(help: "Model name (\(ModelZoo.names.joined(separator: ", "))).") var model = "resnet18"
    @Option(name: .customLong("input-size"), help: "Model input size in pixels (default: the data's, the spec's 64 where the data has it; images are resized when the data differ).") var inputSize: Int?
    @Option(help: "Input channels (default: the model's; grayscale is replicated to 3 when the model wants 3).") var channels: Int?
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var subset: SubsetOption
    @OptionGroup var training: TrainingOptions
    @Option(help: ArgumentHelp("Distil from these trained checkpoints (comma-separated; several form an ensemble whose mean softmax is the teacher).", valueName: "files"))
    var teachers: String?
    @OptionGroup var distill: DistillationOptions
    @Option(help: "Output directory.") var out: String
    @Flag(help: "Continue from --out/last.safetensors.") var resume = false
    @Option(name: .customLong("init"), help: ArgumentHelp("Start from the weights in this safetensors file (PyTorch names, e.g. torchvision's resnet18 state_dict): tensors load by name and shape; a head of another shape keeps its fresh initialization; what differs is listed (README: Starting from given weights).", valueName: "file"))
    var initFile: String?
    @Flag(name: .customLong("init-strict"), help: "With --init: refuse a file that does not match the model exactly (head, shapes, missing or extra tensors).")
    var initStrict = false
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print a JSON summary (best_epoch, best_val_auc, seconds_per_epoch, checkpoint, data_loading, spec_differences).") var json = false

    func validate() throws {
        if let channels, channels < 1 { throw ValidationError("--channels must be positive, got \(channels)") }
        try OutputPath.directory(out, "--out")
        if let inputSize, inputSize < 8 { throw ValidationError("--input-size must be at least 8, got \(inputSize)") }
        _ = try ModelZoo.layer(model, channels: channels)
        if initStrict, initFile == nil { throw ValidationError("--init-strict needs --init FILE") }
        if let initFile {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: initFile, isDirectory: &isDirectory) else { throw ValidationError("--init: no such file: \(initFile)") }
            if isDirectory.boolValue { throw ValidationError("--init: \(initFile) is a directory, not a safetensors file") }
        }
        if let teachers {
            guard let files = CommaList.parse(teachers, { $0.isEmpty ? nil : $0 }) else { throw ValidationError("--teachers must be comma-separated files, got '\(teachers)'") }
            for f in files where !FileManager.default.fileExists(atPath: f) { throw ValidationError("--teachers: no such file: \(f)") }
        }
    }

    /// Holds --out for the whole run: a second writer is refused by name (OutputLock).
    func run() throws {
        try OutputLock.holding(URL(fileURLWithPath: out)) { try train() }
    }

    private func train() throws {
        let backend = try engine.makeBackend()
        let data = try dataset.load(preferredSize: inputSize, splits: [.train, .val], subset: subset)
        let train = try data.split(.train), val = try data.split(.val)
        try Trainer.requireImages(train, file: data.file)
        try Trainer.requireImages(val, file: data.file)
        let descriptor = ModelDescriptor(model: model, inputSize: inputSize ?? train.height, channels: channels ?? ModelZoo.defaultChannels(model))
        var trainer = Trainer(descriptor: descriptor, config: training.config, outputDirectory: URL(fileURLWithPath: out), backend: backend)
        trainer.showProgress = !json
        trainer.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let differences = specDifferences(dataSize: train.height, notes: data.notes)
        trainer.log(data.summary)
        for note in differences { trainer.log("note: " + note) }
        trainer.initialWeights = initFile.map { InitialWeights(file: URL(fileURLWithPath: $0), strict: initStrict) }
        if let teachers, let files = CommaList.parse(teachers, { $0.isEmpty ? nil : $0 }) {
            let ensemble = try files.map { file -> (graph: Graph, parameters: ParameterStore) in
                let c = try Checkpoint.read(URL(fileURLWithPath: file))
                guard c.descriptor.input_size == descriptor.input_size, c.descriptor.channels == descriptor.channels else {
                    throw ValidationError("--teachers: \(file) takes \(c.descriptor.channels)×\(c.descriptor.input_size) px input, the student \(descriptor.channels)×\(descriptor.input_size)")
                }
                return (try c.graph(), c.parameters)
            }
            trainer.distillation = try Distillation(ensemble: ensemble, temperature: distill.temperature, alpha: distill.alpha)
        }
        var summary = try trainer.run(train: train, val: val, resume: resume)
        summary.data_loading = data.report
        summary.spec_differences = differences
        if json {
            print(try summary.jsonString())
        } else {
            print(String(format: "best val %@ at epoch %d (%d epochs, %.1f s each%@); best checkpoint: %@",
                         summary.bestText, summary.best_epoch, summary.epochs_run, summary.seconds_per_epoch,
                         summary.stopped_early ? ", stopped early" : "", summary.checkpoint))
        }
    }

    /// Where this run departs from the spec's defaults: the image size a file without 64 px forces, a recipe other
    /// than the spec's TRAINING_CONFIG, and what the subset could not draw.
    func specDifferences(dataSize: Int, notes: [String]) -> [String] {
        var out: [String] = []
        if inputSize == nil, let note = SpecDefaults.imageSizeNote(fileSize: dataSize) { out.append(note) }
        if training.recipe != .spec {
            let r = training.recipe
            out.append("recipe \(r.rawValue)\(r == .default ? " (the default: the one cross-validation preferred)" : ""), not the spec's TRAINING_CONFIG (--recipe spec)")
        }
        return out + notes
    }
}
