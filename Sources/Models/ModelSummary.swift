import Foundation
import NN

/// The torchsummary-style description of a model, read from its graph IR for one sample (`[1, C, S, S]`):
/// one row per op (its module path, kind, output shape, trainable parameters it reads, conv + linear MACs
/// from `GraphCost`), totals, parameters by layer type, and the fields of the spec's `get_model_info`.
/// `pneumo summary` prints it; `json()` is its machine form (snake_case keys).
public struct ModelSummary: Sendable, Encodable {
    public struct Row: Sendable, Encodable, Equatable {
        /// The module path that produced the op (`layer1.0.conv1`); empty at the top level.
        public var name: String
        /// The op kind (`conv2d`, `batch_norm2d`, …; `Op.kindName`).
        public var kind: String
        /// Output shape for one sample.
        public var outputShape: [Int]
        /// Trainable parameters the op reads (weights and biases; batch-norm's running statistics are buffers).
        public var parameters: Int
        /// Multiply-accumulates of a convolution or linear op, 0 for the others.
        public var macs: Int
    }

    /// Layers of one type and the trainable parameters they hold.
    public struct TypeCount: Sendable, Encodable, Equatable {
        public var count: Int
        public var parameters: Int
        /// Share of all trainable parameters, in %.
        public var percent: Double
    }

    public struct Breakdown: Sendable, Encodable, Equatable {
        public var convolution: TypeCount
        public var linear: TypeCount
        public var normalization: TypeCount
    }

    /// The spec's `get_model_info(model)` dictionary, key for key.
    public struct ModelInfo: Sendable, Encodable, Equatable {
        public struct Layers: Sendable, Encodable, Equatable { public var count: Int; public var totalParams: Int }
        public struct Activations: Sendable, Encodable, Equatable { public var count: Int; public var types: [String] }
        public struct Distribution: Sendable, Encodable, Equatable {
            public var convPercentage: Double
            public var linearPercentage: Double
            public var normPercentage: Double
        }
        public struct LayerBreakdown: Sendable, Encodable, Equatable {
            public var convLayers: Layers
            public var linearLayers: Layers
            public var normLayers: Layers
            public var activationLayers: Activations
            public var parameterDistribution: Distribution
        }
        public var architecture: String
        public var totalParameters: Int
        public var modelSizeMB: Double
        public var inputSize: Int
        public var layerBreakdown: LayerBreakdown
    }

    public var architecture: String
    /// `[1, C, H, W]`.
    public var inputShape: [Int]
    /// Trainable parameters (PyTorch's `sum(p.numel() for p in model.parameters())`).
    public var parameters: Int
    /// Non-trainable state (batch-norm running statistics).
    public var buffers: Int
    /// Convolution + linear multiply-accumulates per sample.
    public var macs: Int
    /// 2 · macs / 10⁹ (FLOPs at 2 per MAC; kept for older readers: `gflopsPerSample` is the spec's figure).
    public var gflops: Double
    /// The same counts under the names every JSON uses (`ComputeConvention`): MACs, FLOPs = 2 × MACs, and the
    /// spec's GFLOPs = MACs / 10⁹.
    public var macsPerSample: Int
    public var flopsPerSample: Int
    public var gflopsPerSample: Double
    /// parameters · 4 bytes / 2²⁰ (float32).
    public var modelSizeMB: Double
    /// One input sample, float32, in MB (2²⁰ bytes).
    public var inputSizeMB: Double
    /// The sum of every op's output for one sample, float32, in MB: what a forward pass writes if no
    /// buffer were reused (torchsummary's "forward pass size"; the planned peak is the profiler's figure).
    public var forwardActivationsMB: Double
    public var layers: [Row]
    public var breakdown: Breakdown
    public var modelInfo: ModelInfo

    /// Summarises `layer` built for `channels` × `inputSize` × `inputSize` inputs.
    public init(_ layer: any Layer, architecture: String, channels: Int, inputSize: Int) throws {
        guard channels >= 1, inputSize >= 1 else {
            throw EngineError.invalid("summary", "channels and input size must be positive, got \(channels) and \(inputSize)")
        }
        let m = try ModelGraph(layer, inputShape: [1, channels, inputSize, inputSize])
        try self.init(graph: m.graph, parameters: m.parameters, architecture: architecture)
    }

    /// Summarises a recorded graph; every input's batch dimension is taken as 1.
    public init(graph: Graph, parameters: ParameterStore, architecture: String) throws {
        var inputs: [String: [Int]] = [:]
        for node in graph.nodes { if case .input(let name) = node.op { inputs[name] = [1] + node.shape.dropFirst() } }
        let shapes = try graph.inferShapes(inputs: inputs)
        var counted = Set<Int>()
        var rows: [Row] = []
        var conv = (count: 0, parameters: 0), linear = (count: 0, parameters: 0), norm = (count: 0, parameters: 0)
        var activations: [String] = []
        var bufferCount = 0
        var activationBytes = 0
        for (i, node) in graph.nodes.enumerated() {
            switch node.op {
            case .input: continue
            case .parameter: continue
            case .buffer: bufferCount += shapes[i].reduce(1, *); continue
            default: break
            }
            var params = 0
            for input in node.inputs where !counted.contains(input.index) {
                if case .parameter = graph[input].op {
                    counted.insert(input.index)
                    params += shapes[input.index].reduce(1, *)
                }
            }
            let macs = GraphCost.macs(of: i, in: graph, shapes: shapes)
            rows.append(Row(name: node.name, kind: node.op.kindName, outputShape: shapes[i], parameters: params, macs: macs))
            activationBytes += shapes[i].reduce(1, *) * 4
            switch node.op {
            case .conv2d: conv.count += 1; conv.parameters += params
            case .linear: linear.count += 1; linear.parameters += params
            case .batchNorm2d: norm.count += 1; norm.parameters += params
            case .relu: activations.append("ReLU")
            case .relu6: activations.append("ReLU6")
            default: break
            }
        }
        let total = parameters.trainableCount
        func percent(_ p: Int) -> Double { total == 0 ? 0 : 100 * Double(p) / Double(total) }
        let mb = { (bytes: Int) in Double(bytes) / 1_048_576 }
        let inputShape = inputs["image"] ?? inputs.values.first ?? []

        self.architecture = architecture
        self.inputShape = inputShape
        self.parameters = total
        buffers = bufferCount
        macs = rows.reduce(0) { $0 + $1.macs }
        gflops = 2 * Double(macs) / 1e9
        macsPerSample = macs
        flopsPerSample = ComputeConvention.flops(macs: macs)
        gflopsPerSample = ComputeConvention.gflops(macs: macs)
        modelSizeMB = mb(total * 4)
        inputSizeMB = mb(inputShape.reduce(1, *) * 4)
        forwardActivationsMB = mb(activationBytes)
        layers = rows
        breakdown = Breakdown(
            convolution: TypeCount(count: conv.count, parameters: conv.parameters, percent: percent(conv.parameters)),
            linear: TypeCount(count: linear.count, parameters: linear.parameters, percent: percent(linear.parameters)),
            normalization: TypeCount(count: norm.count, parameters: norm.parameters, percent: percent(norm.parameters)))
        var activationTypes: [String] = []
        for a in activations where !activationTypes.contains(a) { activationTypes.append(a) }
        modelInfo = ModelInfo(
            architecture: architecture, totalParameters: total, modelSizeMB: modelSizeMB,
            inputSize: inputShape.count == 4 ? inputShape[3] : 0,
            layerBreakdown: .init(
                convLayers: .init(count: conv.count, totalParams: conv.parameters),
                linearLayers: .init(count: linear.count, totalParams: linear.parameters),
                normLayers: .init(count: norm.count, totalParams: norm.parameters),
                activationLayers: .init(count: activations.count, types: activationTypes),
                parameterDistribution: .init(convPercentage: percent(conv.parameters), linearPercentage: percent(linear.parameters),
                                             normPercentage: percent(norm.parameters))))
    }

    /// Pretty JSON with snake_case keys (`parameters`, `macs`, `model_size_mb`, `layers`, `model_info`, …).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The terminal table: torchsummary's layout (batch shown as -1), with MACs per layer.
    public func table() -> String {
        let nameWidth = max(24, min(48, (layers.map(\.name.count).max() ?? 0) + 2))
        let columns = [nameWidth, 18, 22, 13, 15]
        let ruleWidth = columns.reduce(0, +)
        let thin = String(repeating: "-", count: ruleWidth), thick = String(repeating: "=", count: ruleWidth)
        func row(_ cells: [String]) -> String {
            var line = ""
            for (k, cell) in cells.enumerated() {
                line += k < 2 ? pad(cell, columns[k]) : padLeft(cell, columns[k])
            }
            return line
        }
        var out = [thin, "\(architecture), input \(shapeString(inputShape, batch: false))", thin,
                   row(["Layer (module path)", "Op", "Output Shape", "Param #", "MACs"]), thick]
        for r in layers {
            out.append(row([r.name.isEmpty ? "(top)" : r.name, r.kind, shapeString(r.outputShape, batch: true),
                            grouped(r.parameters), r.macs > 0 ? grouped(r.macs) : "–"]))
        }
        out += [thick,
                "Total params: \(grouped(parameters))",
                "Trainable params: \(grouped(parameters))",
                "Non-trainable params (buffers): \(grouped(buffers))",
                "Conv + linear MACs per sample: \(grouped(macs)) (\(fixed(Double(macs) / 1e6, 2)) M)",
                "GFLOPs per sample: \(fixed(gflopsPerSample, 4)) (\(ComputeConvention.label)); \(fixed(gflops, 4)) at 2 FLOPs per MAC",
                thin, "Parameters by layer type:"]
        for (label, t) in [("convolution", breakdown.convolution), ("linear", breakdown.linear),
                           ("normalization", breakdown.normalization)] {
            out.append("  " + pad(label, 16) + padLeft("\(t.count) layers", 12) + padLeft(grouped(t.parameters), 15)
                       + padLeft(fixed(t.percent, 2) + "%", 10))
        }
        let info = modelInfo.layerBreakdown.activationLayers
        out += [thin,
                "Input size (MB): \(fixed(inputSizeMB, 2))",
                "Forward pass size (MB): \(fixed(forwardActivationsMB, 2))",
                "Params size (MB): \(fixed(modelSizeMB, 2))",
                "Estimated total size (MB): \(fixed(inputSizeMB + forwardActivationsMB + modelSizeMB, 2))",
                thin,
                "Model info: architecture \(architecture), \(grouped(parameters)) parameters, \(fixed(modelSizeMB, 1)) MB, "
                    + "input \(modelInfo.inputSize)×\(modelInfo.inputSize), activations \(info.types.joined(separator: ", ")) (\(info.count))",
                thin]
        return out.joined(separator: "\n")
    }
}

// MARK: formatting

fileprivate func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

fileprivate func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

fileprivate func pad(_ s: String, _ width: Int) -> String {
    s.count >= width - 1 ? String(s.prefix(width - 2)) + "… " : s + String(repeating: " ", count: width - s.count)
}

fileprivate func padLeft(_ s: String, _ width: Int) -> String {
    s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
}

fileprivate func shapeString(_ shape: [Int], batch: Bool) -> String {
    guard batch, !shape.isEmpty else { return describe(shape) }
    return describe([-1] + shape.dropFirst())
}
