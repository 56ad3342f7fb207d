import ArgumentParser
import Foundation
import Models
import Train
import NN

/// `pneumo summary`: the torchsummary-style table of a family member or a spec file (`ModelSummary`).
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers, output shapes, parameters and MACs, with totals and a breakdown by layer type.",
        discussion: """
            Give one of --model (a family member: \(ModelZoo.names.joined(separator: ", "))), --config (a JSON or \
            YAML model spec) or --checkpoint. MACs are convolution + linear multiply-accumulates for one sample; \
            GFLOPs are the spec's (1 MAC = 1 FLOP, as thop counts: gflops_per_sample = MACs / 1e9, as profile \
            and sla report it; flops_per_sample counts 2 per MAC, and the older key gflops too); \
            the model size is parameters × 4 bytes in MB (2^20 bytes).
            """)

    @Option(help: "Family member (\(ModelZoo.names.joined(separator: ", "))).") var model: String?
    @Option(help: ArgumentHelp("Model spec file (.json, .yaml or .yml).", valueName: "file")) var config: String?
    @Option(help: ArgumentHelp("Checkpoint (safetensors) to summarise.", valueName: "file")) var checkpoint: String?
    @Option(name: .customLong("input-size"), help: "Input height and width in pixels.") var inputSize = 64
    @Option(help: "Input channels (default: the model's: 1 for pneumonet, 3 otherwise, or the spec's).") var channels: Int?
    @Option(help: "Output classes (default 2, or the spec's).") var classes: Int?
    @Option(help: "Channel multiplier (--model only).") var width: Double?
    @Option(help: "MobileNetV2 expansion factor (--model mobilenetv2).") var expansion: Double?
    @Option(help: "Groups of the 3×3 block convolutions (--model resnet18-grouped).") var groups: Int?
    @Option(help: "Rank of the factorized 3×3 block convolutions (--model resnet18-lowrank).") var rank: Int?
    @Option(help: ArgumentHelp("PneumoNet stem and stage widths, comma-separated (--model pneumonet).", valueName: "w0,w1,…"))
    var widths: String?
    @Option(help: "PneumoNet separable residual blocks per stage (--model pneumonet).") var blocks: Int?
    @Option(help: "Bilinear resize of the input before the stem (ResNet family).") var upsample: Int?
    @Flag(help: "Print JSON (keys: parameters, macs, macs_per_sample, flops_per_sample, gflops_per_sample, model_size_mb, layers, breakdown, model_info, …).") var json = false

    var modelOptions: ModelOptions {
        get throws {
            var widthList: [Int]? = nil
            if let widths {
                guard let parts = CommaList.parse(widths, { Int($0) }) else {
                    throw ValidationError("--widths must be comma-separated integers, got '\(widths)'")
                }
                widthList = parts
            }
            return ModelOptions(width: width, expansion: expansion, groups: groups, rank: rank, widths: widthList,
                                blocks: blocks, upsample: upsample)
        }
    }

    func validate() throws {
        let sources = [model != nil, config != nil, checkpoint != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --model, --config and --checkpoint") }
        if let checkpoint, !FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("--checkpoint: no such file: \(checkpoint)")
        }
        guard inputSize >= 1 else { throw ValidationError("--input-size must be positive, got \(inputSize)") }
        if let channels, channels < 1 { throw ValidationError("--channels must be positive, got \(channels)") }
        if let classes, classes < 1 { throw ValidationError("--classes must be positive, got \(classes)") }
        if let model, !ModelZoo.names.contains(model) {
            throw ValidationError("--model: unknown model '\(model)'; known: \(ModelZoo.names.joined(separator: ", "))")
        }
        let options = try modelOptions
        if config != nil, let first = options.setNames.first {
            throw ValidationError("--\(first) applies to --model; set it in the spec file instead")
        }
        if let config, !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("--config: no such file: \(config)")
        }
    }

    func run() throws {
        let summary: ModelSummary
        if let checkpoint {
            let ckpt = try Checkpoint.read(URL(fileURLWithPath: checkpoint))
            let graph = try ckpt.customGraph ?? ModelGraph(try ckpt.descriptor.layer(), inputShape: [1, ckpt.descriptor.channels, inputSize, inputSize]).graph
            summary = try ModelSummary(graph: graph, parameters: ckpt.parameters, architecture: ckpt.descriptor.model)
        } else if let config {
            var spec = try ModelSpec.load(contentsOf: URL(fileURLWithPath: config))
            if let channels { spec.channels = channels }
            if let classes { spec.classes = classes }
            summary = try ModelSummary(try spec.layer(), architecture: spec.architecture, channels: spec.inputChannels,
                                       inputSize: inputSize)
        } else {
            let name = model!
            let c = channels ?? ModelZoo.defaultChannels(name)
            let layer = try ModelZoo.layer(name, channels: c, classes: classes ?? 2, options: try modelOptions)
            summary = try ModelSummary(layer, architecture: name, channels: c, inputSize: inputSize)
        }
        print(json ? try summary.json() : summary.table())
    }
}
