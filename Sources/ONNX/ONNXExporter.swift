import GraphCore
import FileSafety
import Foundation
import NN
import SwiftProtobuf

/// IR → ONNX `ModelProto`, for inference: the graph's non-loss outputs and what they depend on.
///
/// # The translation
/// | IR | ONNX |
/// |---|---|
/// | `conv2d` | `Conv` (kernel_shape, strides, pads `[ph, pw, ph, pw]`, dilations, group) |
/// | `batchNorm2d` | `BatchNormalization` (inference form; epsilon; momentum = 1 − ours, ONNX weighs the old value) |
/// | `relu` / `relu6` | `Relu` / `Clip(x, 0, 6)` (bounds as inputs, opset ≥ 11) |
/// | `maxPool2d` / `avgPool2d` | `MaxPool` / `AveragePool` (count_include_pad = 1) |
/// | `globalAvgPool` | `GlobalAveragePool` |
/// | `linear` | `Gemm(transB = 1)` |
/// | `add` | `Add` |
/// | `flatten(1)` / `flatten(k)` | `Flatten(axis 1)` / `Reshape(x, [0, …, 0, -1])` |
/// | `dropout` | dropped (identity at inference) |
/// | `resizeBilinear(h, w)` | `Resize` (mode linear, coordinate_transformation_mode half_pixel: PyTorch's `align_corners=False`) |
/// | `fakeQuantize(q)` | `QuantizeLinear` → `DequantizeLinear` (scale a float scalar, zero point a uint8/int8 scalar 0) |
/// | `binary(op)` | `Add` / `Sub` / `Mul` / `Div` (NumPy broadcasting in both) |
/// | `activation` | `Sigmoid`, `HardSigmoid(alpha, beta)`, `HardSwish` (opset 13: `Mul(x, HardSigmoid(x, 1/6, 1/2))`), swish as `Mul(x, Sigmoid(x))` |
/// | `softmax(axis)` / `transpose(perm)` / `concat(axis)` | `Softmax` / `Transpose` / `Concat` |
/// | `pad` | `Pad(x, pads, constant_value)` (mode constant, reflect or edge) |
/// | `reduceMean(axes, keepDims)` | `ReduceMean` (axes an input from opset 18, an attribute before) |
///
/// Initializers carry the parameter store's names (`layer1.0.conv1.weight`, `bn1.running_mean`), in its order;
/// node names are the module path and the op type (`layer1.0.conv1/Conv`, `layer1.0/Relu_1`). The input keeps its
/// IR name (`image`, `[N, C, H, W]`, N the dim_param `batch` with `dynamicBatch`), the output is `logits`.
///
/// # Quantized graphs (QDQ)
/// A graph with `fakeQuantize` nodes (`Int8Quantization`) is written in the QDQ layout that ONNX Runtime
/// fuses into integer kernels (`QLinearConv`): besides each fake-quantize's Q → DQ pair, a conv weight read
/// only by convolutions is stored as integers, `W_q[k] = round(W[k] / s_k)` in int8 with
/// `s_k = max|W[k]| / 127` per output channel k (1 for an all-zero channel), or `/ 63` where channel k's weights
/// lie exactly on that 7-bit grid (`Int8Quantization` with 7-bit weights), and a conv bias read only by a conv
/// whose input is fake-quantized (scale `s_x`) as int32 `round(b[k] / (s_x · s_k))`; each goes through
/// `DequantizeLinear(axis 0)` whose output keeps the parameter's name. Initializers `<param>_quantized`,
/// `<param>_scale`, `<param>_zero_point` (ONNX Runtime's quantizer's names). The weights `Int8Quantization`
/// wrote are on these grids, so the file computes the same floats; off-grid weights (after fine-tuning)
/// are rounded here, as the INT8 plan rounds them.
public enum ONNXExporter {
    /// Opsets whose definitions of every op written here are the ones assumed (Resize's `roi`/`scales` optional
    /// since 13; nothing used changes meaning up to 21).
    public static let supportedOpsets: ClosedRange<Int> = 13...21
    public static let defaultOpset = 17
    /// IR version 8 (ONNX 1.10), read by every runtime that knows opset 13.
    static let irVersion: Int64 = 8

    /// The serialized model. `metadata` goes to `metadata_props` (e.g. the checkpoint's model descriptor).
    public static func export(graph: Graph, parameters: ParameterStore, opset: Int = defaultOpset,
                              dynamicBatch: Bool = false, metadata: [String: String] = [:]) throws -> Data {
        let model = try modelProto(graph: graph, parameters: parameters, opset: opset, dynamicBatch: dynamicBatch,
                                   metadata: metadata)
        do {
            return try model.serializedBytes()
        } catch {
            throw ONNXError(.malformed, "export", "cannot serialize the model: \(error)")
        }
    }

    /// Exports and writes atomically (a temporary sibling, then a rename): `url` is the only path written.
    public static func write(graph: Graph, parameters: ParameterStore, to url: URL, opset: Int = defaultOpset,
                             dynamicBatch: Bool = false, metadata: [String: String] = [:]) throws {
        let data = try export(graph: graph, parameters: parameters, opset: opset, dynamicBatch: dynamicBatch, metadata: metadata)
        do { try AtomicFile.write(data, to: url) } catch {
            throw ONNXError(.io, "export", "cannot write \(error)")
        }
    }

    static func modelProto(graph: Graph, parameters: ParameterStore, opset: Int, dynamicBatch: Bool,
                           metadata: [String: String]) throws -> Onnx_ModelProto {
        guard supportedOpsets.contains(opset) else {
            throw ONNXError(.unsupported, "export", "opset \(opset) is not supported; use \(supportedOpsets.lowerBound)…\(supportedOpsets.upperBound)")
        }
        var writer = GraphWriter(graph: graph, parameters: parameters, opset: opset, dynamicBatch: dynamicBatch)
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.producerName = "pneumo"
        model.producerVersion = "1"
        model.graph = try writer.write()
        model.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = metadata[key]!
            return entry
        }
        return model
    }
}

/// Walks the IR once, emitting nodes, initializers and the graph's inputs and outputs.
private struct GraphWriter {
    let graph: Graph
    let parameters: ParameterStore
    let opset: Int
    let dynamicBatch: Bool

    var proto = Onnx_GraphProto()
    /// The ONNX value name of each IR node's result.
    var valueNames: [String?]
    var usedNames: Set<String> = []
    var nodeNameCounts: [String: Int] = [:]
    var clipBounds: (min: String, max: String)?
    /// Parameters (by node index) written as integers + `DequantizeLinear`: conv weights and biases of a
    /// quantized graph.
    var integerParameters: [Int: IntegerParameter] = [:]

    /// A parameter on a per-output-channel grid: `values[j] · scales[j / (count / K)]`.
    struct IntegerParameter {
        var values: [Int32]
        var scales: [Float]
        var type: ONNXDataType
        /// The reading conv's node name, the `DequantizeLinear`'s scope.
        var scope: String
    }

    init(graph: Graph, parameters: ParameterStore, opset: Int, dynamicBatch: Bool) {
        self.graph = graph; self.parameters = parameters; self.opset = opset; self.dynamicBatch = dynamicBatch
        valueNames = Array(repeating: nil, count: graph.nodes.count)
    }

    func fail(_ m: String) -> ONNXError { ONNXError(.unsupported, "export", m) }

    mutating func write() throws -> Onnx_GraphProto {
        proto.name = "pneumo"
        // Inference outputs: every output but a loss; then only the nodes they depend on.
        let outputs = graph.outputs.filter { if case .softmaxCrossEntropy = graph[$0].op { false } else { true } }
        guard !outputs.isEmpty else { throw fail("the graph has no output besides a loss") }
        var needed = [Bool](repeating: false, count: graph.nodes.count)
        for o in outputs { needed[o.index] = true }
        for i in graph.nodes.indices.reversed() where needed[i] {
            for input in graph.nodes[i].inputs { needed[input.index] = true }
        }
        // Parameter and input names are fixed: reserve them before inventing node and value names.
        for (i, node) in graph.nodes.enumerated() where needed[i] {
            switch node.op {
            case .input(let name), .parameter(let name), .buffer(let name): usedNames.insert(name)
            default: break
            }
        }
        if graph.nodes.indices.contains(where: { needed[$0] && graph.nodes[$0].op.isFakeQuantize }) {
            try planIntegerParameters(needed: needed)
        }
        let outputNames = outputs.count == 1 ? ["logits"] : outputs.indices.map { $0 == 0 ? "logits" : "output_\($0)" }
        var outputNameOf: [Int: String] = [:]
        for (k, o) in outputs.enumerated() where outputNameOf[o.index] == nil && !graph[o].op.isLeaf {
            if case .dropout = graph[o].op { continue }
            outputNameOf[o.index] = unique(outputNames[k])
        }

        for (i, node) in graph.nodes.enumerated() where needed[i] {
            try emit(node, index: i, outputName: outputNameOf[i])
        }

        // Graph outputs; an output that is not a node's own result (a leaf, an input, a dropped dropout)
        // goes through an Identity so that it has the output's name.
        var emittedOutputs: Set<String> = []
        for (k, o) in outputs.enumerated() {
            var name = valueNames[o.index]!
            if outputNameOf[o.index] == nil || emittedOutputs.contains(name) {
                let alias = unique(outputNames[k])
                appendNode("Identity", scope: "", inputs: [name], output: alias)
                name = alias
            }
            emittedOutputs.insert(name)
            proto.output.append(valueInfo(name, shape: graph[o].shape))
        }
        return proto
    }

    /// Which conv weights and biases become integer initializers (see the type's doc): a weight whose every
    /// reader is a conv's weight input; a bias whose only reader is its conv, with that weight quantized and
    /// the conv's input fake-quantized, and whose integers fit int32.
    mutating func planIntegerParameters(needed: [Bool]) throws {
        var readers = [[(node: Int, slot: Int)]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() where needed[i] {
            for (slot, input) in node.inputs.enumerated() { readers[input.index].append((i, slot)) }
        }
        for (i, node) in graph.nodes.enumerated() where needed[i] {
            guard case .conv2d = node.op else { continue }
            let w = node.inputs[1].index
            guard integerParameters[w] == nil, case .parameter(let name) = graph.nodes[w].op,
                  graph.outputs.allSatisfy({ $0.index != w }),
                  readers[w].allSatisfy({ $0.slot == 1 && graph.nodes[$0.node].op.isConv }),
                  let t = parameters[name], t.rank >= 1, t.shape[0] >= 1 else { continue }
            let (values, scales) = try Self.perChannelInt8(t, name: name)
            integerParameters[w] = IntegerParameter(values: values, scales: scales, type: .int8, scope: node.name)
        }
        for (i, node) in graph.nodes.enumerated() where needed[i] {
            guard case .conv2d = node.op, node.inputs.count == 3, let weight = integerParameters[node.inputs[1].index],
                  case .fakeQuantize(let q) = graph[node.inputs[0]].op else { continue }
            let b = node.inputs[2].index
            guard case .parameter(let name) = graph.nodes[b].op, graph.outputs.allSatisfy({ $0.index != b }),
                  readers[b].count == 1, let t = parameters[name], t.shape == [weight.scales.count] else { continue }
            let steps = weight.scales.map { q.scale * $0 }
            var values: [Int32] = []
            for (v, step) in zip(t.scalars, steps) {
                let n = (v / step).rounded(.toNearestOrEven)
                guard abs(n) < 0x1p31 else { break }  // NaN fails too
                values.append(Int32(n))
            }
            guard values.count == steps.count, steps.allSatisfy({ $0 > 0 && $0.isFinite }) else { continue }  // stays float
            integerParameters[b] = IntegerParameter(values: values, scales: steps, type: .int32, scope: node.name)
        }
    }

    /// `w`'s int8 values and per-output-channel scales: `s_k = max|w_k| / 127` (1 for an all-zero channel),
    /// `q = round(w / s_k)`. For weights `Int8Quantization` rounded (`q · s` with |q| ≤ 127, 127 reached),
    /// `max|w_k| = 127 · s` and `(127 · s) / 127` is `s` again in float32, so `DequantizeLinear` gives back
    /// `w` bit for bit (the round-trip test checks it).
    static func perChannelInt8(_ w: Tensor, name: String) throws -> ([Int32], [Float]) {
        let v = w.scalars
        guard v.allSatisfy(\.isFinite) else {
            throw ONNXError(.unsupported, "export", "parameter '\(name)' holds NaN or Inf; it cannot be quantized")
        }
        let k = w.shape[0], per = v.count / k
        var values = [Int32](repeating: 0, count: v.count), scales: [Float] = []
        for o in 0..<k {
            let channel = v[(o * per)..<((o + 1) * per)]
            let m = channel.reduce(Float(0)) { max($0, abs($1)) }
            let step7 = m / 63   // `Int8WeightRange.reduced`'s grid
            let limit: Float = step7 > 0 && channel.allSatisfy({ ($0 / step7).rounded(.toNearestOrEven) * step7 == $0 }) ? 63 : 127
            let s = m > 0 ? max(m / limit, .leastNonzeroMagnitude) : 1
            for j in channel.indices { values[j] = Int32(min(max((v[j] / s).rounded(.toNearestOrEven), -limit), limit)) }
            scales.append(s)
        }
        return (values, scales)
    }

    /// `name` as integers (`<name>_quantized`), scales and zero points, and the `DequantizeLinear(axis 0)`
    /// whose output is `name`, the float the conv reads.
    mutating func emitDequantized(_ name: String, _ p: IntegerParameter, shape: [Int]) {
        let k = p.scales.count
        let values = unique(name + "_quantized"), scale = unique(name + "_scale")
        proto.initializer.append(integerTensorProto(name: values, p.values, shape: shape, type: p.type))
        proto.initializer.append(tensorProto(name: scale, try! Tensor(shape: [k], scalars: p.scales)))
        var inputs = [values, scale]
        if p.type != .int32 {  // int32 (biases) has no zero point in QDQ convolutions
            let zeroPoint = unique(name + "_zero_point")
            proto.initializer.append(integerTensorProto(name: zeroPoint, Array(repeating: 0, count: k), shape: [k], type: p.type))
            inputs.append(zeroPoint)
        }
        appendNode("DequantizeLinear", scope: p.scope, inputs: inputs, output: name, attributes: [.int("axis", 0)])
    }

    mutating func unique(_ base: String) -> String {
        var name = base, k = 1
        while usedNames.contains(name) { name = "\(base)_\(k)"; k += 1 }
        usedNames.insert(name)
        return name
    }

    /// `scope/OpType`, numbered from the second of its kind in the same scope (`layer1.0/Relu_1`).
    mutating func nodeName(scope: String, _ opType: String) -> String {
        let base = scope.isEmpty ? opType : "\(scope)/\(opType)"
        let k = nodeNameCounts[base, default: 0]
        nodeNameCounts[base] = k + 1
        return k == 0 ? base : "\(base)_\(k)"
    }

    @discardableResult
    mutating func appendNode(_ opType: String, scope: String, inputs: [String], output: String? = nil,
                             attributes: [Onnx_AttributeProto] = []) -> String {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = nodeName(scope: scope, opType)
        n.input = inputs
        let out = output ?? unique(n.name + "_output_0")
        n.output = [out]
        n.attribute = attributes
        proto.node.append(n)
        return out
    }

    func valueInfo(_ name: String, shape: [Int]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = ONNXDataType.float.rawValue
        var s = Onnx_TensorShapeProto()
        s.dim = shape.enumerated().map { axis, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if axis == 0 && dynamicBatch { dim.dimParam = "batch" } else { dim.dimValue = Int64(d) }
            return dim
        }
        tensorType.shape = s
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    mutating func constant(_ base: String, ints: [Int]) -> String {
        let name = unique(base)
        proto.initializer.append(int64TensorProto(name: name, ints))
        return name
    }

    mutating func emit(_ node: Node, index: Int, outputName: String?) throws {
        let inputs = node.inputs.map { valueNames[$0.index]! }
        let scope = node.name
        func inputShape(_ k: Int) -> [Int] { graph[node.inputs[k]].shape }
        var result: String
        switch node.op {
        case .input(let name):
            proto.input.append(valueInfo(name, shape: node.shape))
            result = name
        case .parameter(let name), .buffer(let name):
            guard let t = parameters[name] else { throw fail("no value for parameter '\(name)'") }
            guard t.shape == node.shape else {
                throw fail("parameter '\(name)' has shape \(describe(t.shape)), the graph expects \(describe(node.shape))")
            }
            if let p = integerParameters[index] {
                emitDequantized(name, p, shape: t.shape)
            } else {
                proto.initializer.append(tensorProto(name: name, t))
            }
            result = name
        case .conv2d(let a):
            let w = inputShape(1)
            result = appendNode("Conv", scope: scope, inputs: inputs, output: outputName, attributes: [
                .ints("dilations", [a.dilation.h, a.dilation.w]), .int("group", a.groups),
                .ints("kernel_shape", [w[2], w[3]]),
                .ints("pads", [a.padding.h, a.padding.w, a.padding.h, a.padding.w]),
                .ints("strides", [a.stride.h, a.stride.w]),
            ])
        case .batchNorm2d(let a):
            result = appendNode("BatchNormalization", scope: scope, inputs: inputs, output: outputName, attributes: [
                .float("epsilon", a.epsilon), .float("momentum", 1 - a.momentum),
            ])
        case .relu:
            result = appendNode("Relu", scope: scope, inputs: inputs, output: outputName)
        case .relu6:
            if clipBounds == nil {
                let lo = unique("relu6.min"), hi = unique("relu6.max")
                proto.initializer.append(tensorProto(name: lo, Tensor(scalar: 0)))
                proto.initializer.append(tensorProto(name: hi, Tensor(scalar: 6)))
                clipBounds = (lo, hi)
            }
            result = appendNode("Clip", scope: scope, inputs: inputs + [clipBounds!.min, clipBounds!.max], output: outputName)
        case .maxPool2d(let a):
            result = appendNode("MaxPool", scope: scope, inputs: inputs, output: outputName, attributes: Self.poolAttributes(a))
        case .avgPool2d(let a):
            result = appendNode("AveragePool", scope: scope, inputs: inputs, output: outputName,
                                attributes: [.int("count_include_pad", 1)] + Self.poolAttributes(a))
        case .globalAvgPool:
            result = appendNode("GlobalAveragePool", scope: scope, inputs: inputs, output: outputName)
        case .linear:
            result = appendNode("Gemm", scope: scope, inputs: inputs, output: outputName, attributes: [
                .float("alpha", 1), .float("beta", 1), .int("transB", 1),
            ])
        case .add:
            result = appendNode("Add", scope: scope, inputs: inputs, output: outputName)
        case .flatten(let start):
            if start == 1 {
                result = appendNode("Flatten", scope: scope, inputs: inputs, output: outputName, attributes: [.int("axis", 1)])
            } else {
                // Keep the first `start` dims (0 copies the input's), merge the rest (-1).
                let shape = constant("\(scope.isEmpty ? "" : scope + "/")flatten_shape", ints: Array(repeating: 0, count: start) + [-1])
                result = appendNode("Reshape", scope: scope, inputs: inputs + [shape], output: outputName)
            }
        case .dropout:
            result = inputs[0]
        case .resizeBilinear(let h, let w):
            let prefix = scope.isEmpty ? "" : scope + "/"
            var attributes: [Onnx_AttributeProto] = [
                .string("coordinate_transformation_mode", "half_pixel"), .string("mode", "linear"),
            ]
            let sizes: String
            if !dynamicBatch {
                let x = inputShape(0)
                sizes = constant(prefix + "resize_sizes", ints: [x[0], x[1], h, w])
            } else if opset >= 18 {
                attributes.append(.ints("axes", [2, 3]))
                sizes = constant(prefix + "resize_sizes", ints: [h, w])
            } else {
                // sizes = concat(shape(x)[0:2], [h, w]): the batch is only known at run time.
                let shape = appendNode("Shape", scope: scope, inputs: [inputs[0]])
                let nc = appendNode("Gather", scope: scope, inputs: [shape, constant(prefix + "resize_nc", ints: [0, 1])],
                                    attributes: [.int("axis", 0)])
                sizes = appendNode("Concat", scope: scope, inputs: [nc, constant(prefix + "resize_hw", ints: [h, w])],
                                   attributes: [.int("axis", 0)])
            }
            result = appendNode("Resize", scope: scope, inputs: [inputs[0], "", "", sizes], output: outputName, attributes: attributes)
        case .softmaxCrossEntropy:
            throw fail("an inference output depends on the loss node '\(node.name)'")
        case .fakeQuantize(let q):
            // One scale and zero point, read by both: ONNX Runtime fuses a pair only when they agree.
            let prefix = scope.isEmpty ? "" : scope + "/"
            let scale = unique(prefix + "scale"), zeroPoint = unique(prefix + "zero_point")
            proto.initializer.append(tensorProto(name: scale, Tensor(scalar: q.scale)))
            proto.initializer.append(integerTensorProto(name: zeroPoint, [0], shape: [], type: q.unsigned ? .uint8 : .int8))
            let quantized = appendNode("QuantizeLinear", scope: scope, inputs: [inputs[0], scale, zeroPoint])
            result = appendNode("DequantizeLinear", scope: scope, inputs: [quantized, scale, zeroPoint], output: outputName)
        case .binary(let op):
            let type = switch op { case .add: "Add"; case .sub: "Sub"; case .mul: "Mul"; case .div: "Div" }
            result = appendNode(type, scope: scope, inputs: inputs, output: outputName)
        case .activation(let f):
            result = emitActivation(f, scope: scope, input: inputs[0], output: outputName)
        case .softmax(let axis):
            result = appendNode("Softmax", scope: scope, inputs: inputs, output: outputName, attributes: [.int("axis", axis)])
        case .transpose(let perm):
            result = appendNode("Transpose", scope: scope, inputs: inputs, output: outputName, attributes: [.ints("perm", perm)])
        case .pad(let a):
            let prefix = scope.isEmpty ? "" : scope + "/"
            var padInputs = [inputs[0], constant(prefix + "pads", ints: a.begin + a.end)]
            if a.mode == .constant {
                let value = unique(prefix + "pad_value")
                proto.initializer.append(tensorProto(name: value, Tensor(scalar: a.value)))
                padInputs.append(value)
            }
            result = appendNode("Pad", scope: scope, inputs: padInputs, output: outputName, attributes: [.string("mode", a.mode.rawValue)])
        case .concat(let axis):
            result = appendNode("Concat", scope: scope, inputs: inputs, output: outputName, attributes: [.int("axis", axis)])
        case .reduceMean(let axes, let keepDims):
            let keep = Onnx_AttributeProto.int("keepdims", keepDims ? 1 : 0)
            if opset >= 18 {
                let axesName = constant((scope.isEmpty ? "" : scope + "/") + "mean_axes", ints: axes)
                result = appendNode("ReduceMean", scope: scope, inputs: [inputs[0], axesName], output: outputName, attributes: [keep])
            } else {
                result = appendNode("ReduceMean", scope: scope, inputs: inputs, output: outputName, attributes: [.ints("axes", axes), keep])
            }
        }
        valueNames[index] = result
    }

    /// Sigmoid, HardSigmoid(α, β), HardSwish (opset ≥ 14; before it x · HardSigmoid(x, 1/6, 1/2)), and swish as
    /// Mul(x, Sigmoid(x)), the form every exporter writes and every runtime reads (ONNX's Swish is opset 24's).
    mutating func emitActivation(_ f: Activation, scope: String, input: String, output: String?) -> String {
        switch f {
        case .sigmoid:
            return appendNode("Sigmoid", scope: scope, inputs: [input], output: output)
        case .hardSigmoid(let alpha, let beta):
            return appendNode("HardSigmoid", scope: scope, inputs: [input], output: output,
                              attributes: [.float("alpha", alpha), .float("beta", beta)])
        case .hardSwish where opset >= 14:
            return appendNode("HardSwish", scope: scope, inputs: [input], output: output)
        case .hardSwish:
            let gate = appendNode("HardSigmoid", scope: scope, inputs: [input], attributes: [.float("alpha", 1 / 6), .float("beta", 0.5)])
            return appendNode("Mul", scope: scope, inputs: [input, gate], output: output)
        case .swish:
            let gate = appendNode("Sigmoid", scope: scope, inputs: [input])
            return appendNode("Mul", scope: scope, inputs: [input, gate], output: output)
        }
    }

    static func poolAttributes(_ a: Pool2dAttributes) -> [Onnx_AttributeProto] {
        [.ints("kernel_shape", [a.kernel.h, a.kernel.w]), .ints("pads", [a.padding.h, a.padding.w, a.padding.h, a.padding.w]),
         .ints("strides", [a.stride.h, a.stride.w])]
    }
}

private extension Op {
    var isFakeQuantize: Bool { if case .fakeQuantize = self { true } else { false } }
    var isConv: Bool { if case .conv2d = self { true } else { false } }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ v: Int) -> Self {
        var a = Self(); a.name = name; a.type = .int; a.i = Int64(v); return a
    }
    static func ints(_ name: String, _ v: [Int]) -> Self {
        var a = Self(); a.name = name; a.type = .ints; a.ints = v.map { Int64($0) }; return a
    }
    static func float(_ name: String, _ v: Float) -> Self {
        var a = Self(); a.name = name; a.type = .float; a.f = v; return a
    }
    static func string(_ name: String, _ v: String) -> Self {
        var a = Self(); a.name = name; a.type = .string; a.s = Data(v.utf8); return a
    }
}
