import Foundation
import NN

/// Weights to start training from (`pneumo train --init FILE`): a safetensors file with PyTorch's names, such as
/// torchvision's ResNet-18 `state_dict` (`conv1.weight`, `bn1.running_mean`, `layer1.0.conv1.weight`, `fc.weight`)
/// saved with `safetensors.torch.save_file`, or a checkpoint of ours.
///
/// A tensor loads where its name and shape are the model's, with two readings of torchvision's layout:
/// - torchvision's head is one Linear (`fc.weight`); ours is Dropout + Linear (`fc.1.weight`), so a file's name that
///   lacks the `.1` of a head tensor's is read as that tensor;
/// - a 3-channel stem (`conv1.weight [64, 3, 7, 7]`) for a 1-channel model is summed over its input channels: on
///   grayscale replicated to three channels (what 3-channel models here see) the two compute the same output.
///
/// Without `strict`, a head whose shape differs (1000 ImageNet classes against our 2) keeps its fresh
/// initialization, as fine-tuning a pretrained backbone does; so does every other tensor whose shape differs or
/// that the file lacks (a variant's factorized convolutions), and the file's tensors the model lacks are ignored.
/// The report lists each. With `strict`, any of these is an error. Either way PyTorch's integer counters
/// (`num_batches_tracked`, I64) and our optimizer state (`optimizer.*`) are skipped by name, and a file of which
/// fewer than half the model's tensors load is an error.
public struct InitialWeights: Sendable {
    public var file: URL
    public var strict: Bool

    public init(file: URL, strict: Bool = false) { self.file = file; self.strict = strict }

    /// What `apply` did, for the log and `pneumo train --json` (`init`).
    public struct Report: Codable, Sendable, Equatable {
        public var file: String
        /// Model tensors set from the file, of `model_tensors`.
        public var loaded: Int
        public var model_tensors: Int
        /// Each line names the tensor with the file's and the model's shapes.
        public var head_skipped: [String]
        public var channels_summed: [String]
        public var shape_mismatches: [String]
        public var missing: [String]
        public var unexpected: [String]
        /// Tensors skipped by name: PyTorch's `num_batches_tracked`, our `optimizer.*`.
        public var ignored: Int

        /// The log: a summary line, then one indented line per kind of difference.
        public var lines: [String] {
            ["--init \(file): loaded \(loaded) of the model's \(model_tensors) tensors" + (ignored > 0 ? " (\(ignored) counters or optimizer tensors ignored)" : "")]
                + differences(strict: false)
        }

        /// One indented line per kind of difference, in the words of a lenient load (what it did) or a strict one (why
        /// it refused).
        func differences(strict: Bool) -> [String] {
            let kinds: [(lenient: String, strict: String, items: [String])] = [
                ("head kept at its fresh initialization (its shape differs; --init-strict refuses this)", "the head's shape differs", head_skipped),
                ("input channels summed (the same output on grayscale replicated to 3 channels)", "input channels differ", channels_summed),
                ("shapes differ, kept at their fresh initialization", "shapes differ", shape_mismatches),
                ("missing from the file, kept at their fresh initialization", "missing from the file", missing),
                ("in the file but not in the model, ignored", "in the file but not in the model", unexpected),
            ]
            return kinds.filter { !$0.items.isEmpty }.map { "  \(strict ? $0.strict : $0.lenient): \($0.items.joined(separator: "; "))" }
        }
    }

    /// Sets `parameters` (a model's freshly initialized ones) from the file; throws, naming the file, for an
    /// unreadable file, a file of which fewer than half the model's tensors load, or, when `strict`, any difference
    /// the report would list; `parameters` then stay as they were.
    public func apply(to model: inout ParameterStore) throws -> Report {
        var parameters = model
        let contents = try Safetensors.read(file)
        let path = file.path
        let head = Self.headNames(parameters)
        let stem = parameters.names.first
        var report = Report(file: path, loaded: 0, model_tensors: parameters.names.count, head_skipped: [], channels_summed: [],
                            shape_mismatches: [], missing: [], unexpected: [], ignored: 0)
        // The file's tensors by the model's names; the report then follows the model's order, whatever the file's.
        var byModelName: [String: (fileName: String, tensor: Tensor)] = [:]
        let known = Set(parameters.names)
        for (fileName, tensor) in contents.tensors {
            if fileName.hasSuffix("num_batches_tracked") || fileName.hasPrefix(Checkpoint.optimizerPrefix) { report.ignored += 1; continue }
            guard let name = Self.modelName(for: fileName, known: known, head: head) else { report.unexpected.append(fileName); continue }
            byModelName[name] = (fileName, tensor)
        }
        for name in parameters.names {
            guard let (fileName, tensor) = byModelName[name] else { report.missing.append(name); continue }
            let want = parameters[name]!.shape
            let label = name == fileName ? name : "\(fileName) as \(name)"
            if tensor.shape == want {
                try parameters.set(name, tensor)
                report.loaded += 1
            } else if name == stem, let summed = Self.summedOverInputChannels(tensor, to: want) {
                try parameters.set(name, summed)
                report.loaded += 1
                report.channels_summed.append("\(label) \(tensor.shape) → \(want)")
            } else if head.contains(name) {
                report.head_skipped.append("\(label): the file's \(tensor.shape), the model's \(want)")
            } else {
                report.shape_mismatches.append("\(label): the file's \(tensor.shape), the model's \(want)")
            }
        }
        // A ResNet-18 variant loads most of torchvision's tensors (all but its factorized convolutions); a file of which
        // fewer than half load is another model's, whose few matches (a two-class bias) would only hide that.
        if report.loaded * 2 < report.model_tensors {
            let first = { (names: [String], shape: (String) -> [Int]) in names.prefix(3).map { "\($0) \(shape($0))" }.joined(separator: ", ") }
            throw Safetensors.Error(path: path, message: "only \(report.loaded) of the model's \(report.model_tensors) tensors match the file by name "
                                    + "and shape (--init needs at least half): weights of another model? The model's first: "
                                    + first(parameters.names) { parameters[$0]!.shape } + "; the file's: "
                                    + first(contents.tensors.map(\.name)) { contents[$0]!.shape })
        }
        if strict {
            let problems = report.differences(strict: true)
            if !problems.isEmpty {
                throw Safetensors.Error(path: path, message: "--init-strict: the file does not match the model exactly:\n" + problems.joined(separator: "\n"))
            }
        }
        model = parameters
        return report
    }

    /// The model's head: the tensors of the layer its last trainable parameter belongs to (`fc.1.weight`, `fc.1.bias`).
    static func headNames(_ parameters: ParameterStore) -> Set<String> {
        guard let last = parameters.trainableNames.last, let dot = last.lastIndex(of: ".") else { return [] }
        let layer = last[...dot]
        return Set(parameters.names.filter { $0.hasPrefix(layer) && !$0.dropFirst(layer.count).contains(".") })
    }

    /// The model's name for a file's tensor: the same name, or for a head tensor torchvision's name without the
    /// Sequential's `.1` (`fc.weight` → `fc.1.weight`); nil where the model has neither.
    static func modelName(for fileName: String, known: Set<String>, head: Set<String>) -> String? {
        if known.contains(fileName) { return fileName }
        guard let dot = fileName.lastIndex(of: ".") else { return nil }
        let candidate = String(fileName[..<dot]) + ".1" + fileName[dot...]
        return head.contains(candidate) ? candidate : nil
    }

    /// A `[O, C, kH, kW]` weight as `[O, 1, kH, kW]`, summed over its C input channels; nil for any other pair of shapes.
    static func summedOverInputChannels(_ w: Tensor, to shape: [Int]) -> Tensor? {
        guard w.rank == 4, shape.count == 4, shape[1] == 1, w.shape[1] > 1, w.shape[0] == shape[0], w.shape[2...] == shape[2...] else {
            return nil
        }
        let (o, c, k) = (w.shape[0], w.shape[1], w.shape[2] * w.shape[3])
        let src = w.scalars
        var out = [Float](repeating: 0, count: o * k)
        for i in 0..<o { for j in 0..<c { for p in 0..<k { out[i * k + p] += src[(i * c + j) * k + p] } } }
        return try? Tensor(shape: shape, scalars: out)
    }
}
