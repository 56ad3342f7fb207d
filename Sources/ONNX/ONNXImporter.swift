import GraphCore
import Foundation
import SwiftProtobuf

/// ONNX `ModelProto` → IR, for the ops these models use, from our exporter and from `torch.onnx.export`
/// (TorchScript and dynamo exporters, opset 11–28, fixed or symbolic batch).
///
/// Every file is treated as hostile: its size and nesting are bounded before decoding; each tensor's byte
/// length is checked against its shape with overflow-checked arithmetic, and ranks and element counts are
/// capped (`ONNXLimits`); attributes are checked for type and against the op and its input's rank; every
/// node input must be produced exactly once, by an initializer, the graph input or an earlier node, and the
/// graph may not loop; external data is read only from a regular file whose real path lies inside the
/// model's directory. Each refusal is an `ONNXError` naming the node, op and input involved.
///
/// # What is translated
/// Conv (asymmetric pads as a zero Pad of the difference before it), BatchNormalization (inference form), Relu, Clip (0, 6) → relu6 and (0, ∞) → relu, MaxPool,
/// AveragePool (count_include_pad, or no padding), GlobalAveragePool, ReduceMean over H and W, Gemm
/// (transB 0 or 1; alpha and beta folded into constant operands), MatMul (+ Add of a bias), Flatten(1),
/// Reshape that flattens, Identity, Dropout, Resize (linear, half_pixel / pytorch_half_pixel, sizes or
/// scales). MobileNetV3 and EfficientNet's ops (`ONNXImportTensorOps.swift`): Add, Sub, Mul, Div with NumPy
/// broadcasting (float constants as operands), Sigmoid, HardSigmoid, HardSwish, Swish (α 1), Softmax, Transpose,
/// Pad (constant, reflect, edge), Concat of tensors, ReduceMean over any axes but the batch. Integer tensors known at
/// import (ConstantOfShape, Reshape, Slice, Transpose, Concat, Cast of them: torch's padding arithmetic) are
/// evaluated (`ONNXImportFolding.swift`). Shape arithmetic on the batch size (Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast,
/// Constant), as torch emits for `x.view(x.size(0), -1)` and for `interpolate(size=…)` with a dynamic
/// batch, is evaluated at import. Quantized (QDQ) files: a QuantizeLinear whose only reader is a
/// DequantizeLinear with the same per-tensor scale and zero point 0 is one `fakeQuantize`; a
/// DequantizeLinear of an int8/uint8/int32 constant (per tensor or per axis) is folded into the float
/// constant `(q − zero_point) · scale`, which becomes a parameter as any float initializer does, named
/// after the integer initializer less a `_quantized` suffix. Nothing else is constant-folded.
public enum ONNXImporter {
    /// Opsets whose definitions of the ops above are the ones implemented.
    /// Opsets 22–28 (ONNX 1.17–1.23) change these ops' element types only, besides QuantizeLinear's new `precision`
    /// (refused as an unknown attribute), Cast's `round_mode` (float8 targets only, which Cast here never has) and the
    /// pools' `ceil_mode` wording (a window starting in the right padding is dropped, as the ceil-mode check already
    /// assumes); `scripts/onnx_opset_changes.py` lists what changed after 21. torch 2.13's exporters write opset 20.
    public static let supportedOpsets: ClosedRange<Int> = 11...28
    /// Newest IR version read (ONNX 1.17+ writes 10–12).
    static let maxIRVersion: Int64 = 12

    public static let supportedOps: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "DequantizeLinear", "Div", "Dropout",
        "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "MatMul", "MaxPool", "Mul", "Pad",
        "QuantizeLinear", "ReduceMean", "Relu", "Reshape", "Resize", "Shape", "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Swish",
        "Transpose", "Unsqueeze",
    ]

    /// Reads and translates the model at `url`; external data resolves against its directory.
    /// `inputShape` fixes dimensions that the file leaves symbolic (besides the batch).
    public static func load(url: URL, inputShape: [Int]? = nil, limits: ONNXLimits = ONNXLimits()) throws -> ONNXModel {
        let path = url.path
        do {
            var info = stat()
            guard stat(path, &info) == 0 else { throw ONNXError(.io, "", "no such file") }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw ONNXError(.io, "", "not a regular file") }
            guard Int(info.st_size) <= limits.maxFileBytes else {
                throw ONNXError(.limit, "model", "file of \(info.st_size) bytes exceeds the limit of \(limits.maxFileBytes)")
            }
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw ONNXError(.io, "", "cannot read the file (\(error.localizedDescription))")
            }
            return try load(data: data, modelDirectory: url.deletingLastPathComponent(), inputShape: inputShape, limits: limits)
        } catch let e as ONNXError {
            throw e.at(path: path)
        }
    }

    /// Translates a serialized model. External data is refused unless `modelDirectory` is given.
    public static func load(data: Data, modelDirectory: URL? = nil, inputShape: [Int]? = nil,
                            limits: ONNXLimits = ONNXLimits()) throws -> ONNXModel {
        guard data.count <= limits.maxFileBytes else {
            throw ONNXError(.limit, "model", "\(data.count) bytes exceed the limit of \(limits.maxFileBytes)")
        }
        guard !data.isEmpty else { throw ONNXError(.malformed, "model", "the file is empty") }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = limits.maxMessageDepth
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch BinaryDecodingError.messageDepthLimit {
            throw ONNXError(.limit, "model", "messages nest deeper than \(limits.maxMessageDepth) levels")
        } catch BinaryDecodingError.truncated {
            throw ONNXError(.malformed, "model", "not an ONNX protobuf: the data is truncated")
        } catch {
            throw ONNXError(.malformed, "model", "not an ONNX protobuf (\(error))")
        }
        let translator = ImportTranslator(model: model, limits: limits, inputShape: inputShape,
                                    decoder: TensorDecoder(limits: limits, modelDirectory: modelDirectory))
        return try translator.translate()
    }
}

/// A value of the shape arithmetic evaluated at import: a known integer or the batch size.
enum SymInt: Equatable, CustomStringConvertible {
    case known(Int64)
    case batch
    var description: String {
        switch self {
        case .known(let v): "\(v)"
        case .batch: "batch"
        }
    }
}

/// One model's translation: the ONNX graph's structure checked here, its ops in ONNXImportOps.swift.
final class ImportTranslator {
    let model: Onnx_ModelProto
    let limits: ONNXLimits
    let requestedInputShape: [Int]?
    let decoder: TensorDecoder
    var opset = 0

    /// What an ONNX value name stands for during translation.
    enum Value {
        /// An IR node's result (activation, or a materialised parameter).
        case tensor(ValueID)
        /// An initializer or `Constant` not (yet) used as an IR operand; `name` names its parameter.
        case constant(ConstantTensor, name: String)
        /// A small integer vector (or scalar) of shape arithmetic.
        case shape([SymInt], scalar: Bool)
    }

    var nodes: [Node] = []
    /// Whether dim 0 of each node is the batch (activations) or fixed (parameters).
    var batched: [Bool] = []
    var parameters = ParameterStore()
    var values: [String: Value] = [:]
    var leafByConstant: [String: ValueID] = [:]
    var allValueNames: Set<String> = []
    var useCount: [String: Int] = [:]
    var consumers: [String: [Int]] = [:]
    /// Add nodes whose bias has been folded into the MatMul before them: their result is that linear's.
    var fusedAdds: [Int: ValueID] = [:]
    /// DequantizeLinear nodes that end a QuantizeLinear → DequantizeLinear pair: the pair's fake-quantize
    /// node, its grid, and the QuantizeLinear's context (the DequantizeLinear checks that it agrees).
    var pairedDequantize: [Int: (id: ValueID, grid: QuantizationAttributes, quantize: String)] = [:]
    /// The parameter name a constant takes where it is not its value name: a dequantized
    /// `layer1.0.conv1.weight_quantized` is the parameter `layer1.0.conv1.weight`.
    var parameterNameOf: [String: String] = [:]
    /// Elements of the float constants folded from DequantizeLinear so far (bounded by `maxTotalElements`).
    var dequantizedElements = 0
    var protoNodes: [Onnx_NodeProto] = []

    init(model: Onnx_ModelProto, limits: ONNXLimits, inputShape: [Int]?, decoder: TensorDecoder) {
        self.model = model; self.limits = limits; requestedInputShape = inputShape; self.decoder = decoder
    }

    // MARK: model and graph structure

    func translate() throws -> ONNXModel {
        try checkFieldTypes(model, "model")
        guard model.hasIrVersion, model.irVersion >= 3 else {
            throw ONNXError(.malformed, "model", model.hasIrVersion ? "ir_version \(model.irVersion) predates opset imports" : "ir_version is missing")
        }
        guard model.irVersion <= ONNXImporter.maxIRVersion else {
            throw ONNXError(.unsupported, "model", "IR version \(model.irVersion) is newer than this reader (≤ \(ONNXImporter.maxIRVersion))")
        }
        var defaultOpset: Int64?
        for entry in model.opsetImport {
            try checkFieldTypes(entry, "opset_import")
            guard entry.domain.isEmpty || entry.domain == "ai.onnx" else { continue }
            guard defaultOpset == nil else { throw ONNXError(.malformed, "model", "the default domain is imported twice") }
            defaultOpset = entry.version
        }
        guard let version = defaultOpset else { throw ONNXError(.malformed, "model", "no opset_import for the default ONNX domain") }
        guard version >= Int64(ONNXImporter.supportedOpsets.lowerBound), version <= Int64(ONNXImporter.supportedOpsets.upperBound) else {
            throw ONNXError(.unsupported, "model", "opset \(version) is not supported; this importer reads opsets \(ONNXImporter.supportedOpsets.lowerBound)…\(ONNXImporter.supportedOpsets.upperBound)")
        }
        opset = Int(version)
        guard model.hasGraph else { throw ONNXError(.malformed, "model", "no graph") }
        let g = model.graph
        try checkFieldTypes(g, "graph")
        guard g.node.count <= limits.maxNodes, g.initializer.count <= limits.maxNodes, g.input.count <= limits.maxNodes,
              g.output.count <= limits.maxNodes else {
            throw ONNXError(.limit, "graph", "more than \(limits.maxNodes) nodes, initializers, inputs or outputs")
        }
        guard g.sparseInitializer.isEmpty else { throw ONNXError(.unsupported, "graph", "sparse initializers are not supported") }
        protoNodes = g.node

        // Initializers, decoded and checked up front (unused ones too: a damaged tensor is a damaged file).
        var totalElements = 0
        for t in g.initializer {
            guard !t.name.isEmpty else { throw ONNXError(.malformed, "graph", "an initializer has no name") }
            let what = "initializer '\(t.name)'"
            try checkFieldTypes(t, what)
            guard values[t.name] == nil else { throw ONNXError(.invalidGraph, what, "defined twice") }
            let c = try decoder.decode(t, what)
            totalElements += c.count
            guard totalElements <= limits.maxTotalElements else {
                throw ONNXError(.limit, what, "initializers hold more than \(limits.maxTotalElements) elements in all")
            }
            values[t.name] = .constant(c, name: t.name)
        }

        // The one runtime input (graph inputs that name an initializer are defaults, not inputs).
        var runtimeInputs: [Onnx_ValueInfoProto] = []
        var inputNames: Set<String> = []
        for vi in g.input {
            try checkFieldTypes(vi, "graph input '\(vi.name)'")
            guard !vi.name.isEmpty else { throw ONNXError(.malformed, "graph", "a graph input has no name") }
            guard inputNames.insert(vi.name).inserted else { throw ONNXError(.invalidGraph, "graph input '\(vi.name)'", "declared twice") }
            if values[vi.name] == nil { runtimeInputs.append(vi) }
        }
        guard runtimeInputs.count == 1 else {
            throw ONNXError(.unsupported, "graph", "expected one graph input (an image batch), found \(runtimeInputs.count)\(runtimeInputs.isEmpty ? "" : ": " + runtimeInputs.map(\.name).joined(separator: ", "))")
        }
        let (inputName, inputShape, dynamicBatch) = try parseInput(runtimeInputs[0])
        let inputID = ValueID(nodes.count)
        nodes.append(Node(op: .input(name: inputName), inputs: [], shape: inputShape, name: inputName))
        batched.append(true)
        values[inputName] = .tensor(inputID)

        // Every value defined once; every node input defined; then only what the outputs need, in an order
        // where each node follows its inputs (Kahn's algorithm, which also finds cycles).
        allValueNames = Set(values.keys)
        var producer: [String: Int] = [:]
        for (i, n) in protoNodes.enumerated() {
            let ctx = context(n, i)
            try checkFieldTypes(n, ctx)
            guard !n.opType.isEmpty else { throw ONNXError(.malformed, ctx, "node has no op_type") }
            guard n.output.contains(where: { !$0.isEmpty }) else { throw ONNXError(.malformed, ctx, "node has no output") }
            for out in n.output where !out.isEmpty {
                guard !allValueNames.contains(out) else {
                    throw ONNXError(.invalidGraph, ctx, "output '\(out)' is already defined (by another node, an initializer or the graph input)")
                }
                allValueNames.insert(out)
                producer[out] = i
            }
        }
        for (i, n) in protoNodes.enumerated() {
            for input in n.input where !input.isEmpty && !allValueNames.contains(input) {
                throw ONNXError(.invalidGraph, context(n, i), "input '\(input)' is not produced by any node, initializer or graph input")
            }
        }
        guard !g.output.isEmpty else { throw ONNXError(.invalidGraph, "graph", "no outputs") }
        var outputNames: [String] = []
        for vi in g.output {
            try checkFieldTypes(vi, "graph output '\(vi.name)'")
            guard !vi.name.isEmpty else { throw ONNXError(.malformed, "graph", "a graph output has no name") }
            guard allValueNames.contains(vi.name) else {
                throw ONNXError(.invalidGraph, "graph output '\(vi.name)'", "not produced by any node, initializer or graph input")
            }
            guard !outputNames.contains(vi.name) else { throw ONNXError(.invalidGraph, "graph output '\(vi.name)'", "listed twice") }
            outputNames.append(vi.name)
        }
        let order = try schedule(outputs: outputNames, producer: producer)
        for i in order {
            for input in protoNodes[i].input where !input.isEmpty {
                useCount[input, default: 0] += 1
                consumers[input, default: []].append(i)
            }
        }
        for name in outputNames { useCount[name, default: 0] += 1 }

        for i in order { try translate(protoNodes[i], index: i) }

        var outputs: [ValueID] = []
        for name in outputNames {
            guard case .tensor(let id)? = values[name] else {
                throw ONNXError(.unsupported, "graph output '\(name)'", "is a constant or a shape computation, not a tensor computed from the input")
            }
            outputs.append(id)
        }
        var metadata: [String: String] = [:]
        for entry in model.metadataProps { metadata[entry.key] = entry.value }
        return ONNXModel(graph: Graph(nodes: nodes, outputs: outputs), parameters: parameters, inputName: inputName,
                         inputShape: inputShape, dynamicBatch: dynamicBatch, outputNames: outputNames, opset: opset,
                         producer: [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "),
                         metadata: metadata)
    }

    func context(_ n: Onnx_NodeProto, _ index: Int) -> String {
        let op = n.opType.isEmpty ? "?" : (n.domain.isEmpty ? n.opType : "\(n.domain).\(n.opType)")
        return n.name.isEmpty ? "node #\(index) (\(op))" : "node '\(n.name)' (\(op))"
    }

    /// The nodes the outputs depend on, each after the producers of its inputs; throws on a cycle.
    func schedule(outputs: [String], producer: [String: Int]) throws -> [Int] {
        var needed = [Bool](repeating: false, count: protoNodes.count)
        var stack = outputs.compactMap { producer[$0] }
        while let i = stack.popLast() {
            guard !needed[i] else { continue }
            needed[i] = true
            for input in protoNodes[i].input { if let p = producer[input], !needed[p] { stack.append(p) } }
        }
        let candidates = needed.indices.filter { needed[$0] }
        // Already in order (the ONNX rule, and what every exporter writes): keep it, and so the parameter order.
        var seen = Set<Int>()
        var sorted = true
        for i in candidates {
            for input in protoNodes[i].input { if let p = producer[input], !seen.contains(p) { sorted = false } }
            seen.insert(i)
        }
        if sorted { return candidates }
        var indegree: [Int: Int] = [:]
        var dependents: [Int: [Int]] = [:]
        for i in candidates {
            let producers = Set(protoNodes[i].input.compactMap { producer[$0] })
            indegree[i] = producers.count
            for p in producers { dependents[p, default: []].append(i) }
        }
        var queue = candidates.filter { indegree[$0] == 0 }, head = 0
        while head < queue.count {
            let i = queue[head]; head += 1
            for d in dependents[i] ?? [] {
                indegree[d]! -= 1
                if indegree[d] == 0 { queue.append(d) }
            }
        }
        if queue.count < candidates.count {
            let stuck = candidates.filter { indegree[$0]! > 0 }
            let names = stuck.prefix(4).map { context(protoNodes[$0], $0) }.joined(separator: ", ")
            throw ONNXError(.invalidGraph, "graph", "the graph has a cycle through \(stuck.count) node(s): \(names)\(stuck.count > 4 ? ", …" : "")")
        }
        return queue
    }

    func parseInput(_ vi: Onnx_ValueInfoProto) throws -> (String, [Int], Bool) {
        let what = "graph input '\(vi.name)'"
        guard vi.hasType, case .tensorType(let tt)? = vi.type.value else {
            throw ONNXError(.unsupported, what, "is not a tensor")
        }
        try checkFieldTypes(tt, what)
        guard tt.elemType == ONNXDataType.float.rawValue else {
            throw ONNXError(.unsupported, what, "has element type \(ONNXDataType.name(tt.elemType)); float32 is expected")
        }
        guard tt.hasShape else { throw ONNXError(.unsupported, what, "has no shape") }
        let dims = tt.shape.dim
        guard !dims.isEmpty, dims.count <= limits.maxRank else {
            throw ONNXError(dims.isEmpty ? .unsupported : .limit, what, "rank \(dims.count) is outside 1…\(limits.maxRank)")
        }
        if let r = requestedInputShape, r.count != dims.count {
            throw ONNXError(.invalidGraph, what, "has rank \(dims.count), the requested input shape \(describe(r)) has rank \(r.count)")
        }
        var shape: [Int] = []
        var dynamicBatch = false
        for (axis, d) in dims.enumerated() {
            try checkFieldTypes(d, what)
            if case .dimValue(let v)? = d.value {
                guard v >= 1, v <= Int64(limits.maxTensorElements) else {
                    throw ONNXError(v < 1 ? .invalidGraph : .limit, what, "dimension \(axis) is \(v)")
                }
                if let r = requestedInputShape, r[axis] != Int(v), axis != 0 {
                    throw ONNXError(.invalidGraph, what, "dimension \(axis) is \(v) in the file, \(r[axis]) requested")
                }
                shape.append(axis == 0 ? (requestedInputShape?[0] ?? Int(v)) : Int(v))
            } else if axis == 0 {
                dynamicBatch = true
                shape.append(requestedInputShape?[0] ?? 1)
            } else if let r = requestedInputShape {
                shape.append(r[axis])
            } else {
                let label = if case .dimParam(let p)? = d.value { " ('\(p)')" } else { "" }
                throw ONNXError(.unsupported, what, "dimension \(axis)\(label) is symbolic; give the input shape to import it")
            }
        }
        guard shape.allSatisfy({ $0 >= 1 }), checkedCount(shape, limit: limits.maxTensorElements) != nil else {
            throw ONNXError(.limit, what, "shape \(describe(shape)) is empty or has more than \(limits.maxTensorElements) elements")
        }
        return (vi.name, shape, dynamicBatch)
    }

    // MARK: building the IR

    func shape(_ id: ValueID) -> [Int] { nodes[id.index].shape }

    /// Appends an op node, inferring its shape with the engine's rules (so the IR is valid by construction).
    func append(_ op: Op, _ inputs: [ValueID], name: String, _ ctx: String) throws -> ValueID {
        let inShapes = inputs.map(shape)
        let out: [Int]
        do {
            out = try ShapeInference.infer(op, inShapes, name: name)
        } catch let e as EngineError {
            throw ONNXError(.invalidGraph, ctx, "\(e.message) (input shapes \(inShapes.map(describe).joined(separator: ", ")))")
        }
        guard checkedCount(out, limit: limits.maxTensorElements) != nil else {
            throw ONNXError(.limit, ctx, "output shape \(describe(out)) has more than \(limits.maxTensorElements) elements")
        }
        nodes.append(Node(op: op, inputs: inputs, shape: out, name: name))
        // Dim 0 is the batch when any input's is (a constant operand of broadcast arithmetic may come first).
        batched.append(inputs.contains { batched[$0.index] })
        return ValueID(nodes.count - 1)
    }

    /// A parameter (or buffer) leaf for a constant, created at its first use.
    func leaf(constantName: String, _ c: ConstantTensor, trainable: Bool, _ ctx: String) throws -> ValueID {
        if let id = leafByConstant[constantName] { return id }
        let id = try newLeaf(paramName(parameterNameOf[constantName] ?? constantName), c, trainable: trainable, ctx)
        leafByConstant[constantName] = id
        return id
    }

    /// A leaf for a tensor derived from constant `base` (transposed, scaled, reshaped). It takes the base's
    /// name when nothing else reads the base, so a transposed MatMul weight is still `fc.weight`.
    func derivedLeaf(base: String, _ c: ConstantTensor, trainable: Bool = true, _ ctx: String) throws -> ValueID {
        let display = parameterNameOf[base] ?? base
        let name = useCount[base] == 1 && parameters[display] == nil ? display : paramName(display + ".derived")
        return try newLeaf(name, c, trainable: trainable, ctx)
    }

    func paramName(_ base: String) -> String {
        var name = base, k = 1
        while parameters[name] != nil { name = "\(base)_\(k)"; k += 1 }
        return name
    }

    func newLeaf(_ name: String, _ c: ConstantTensor, trainable: Bool, _ ctx: String) throws -> ValueID {
        guard let floats = c.floats else {
            throw ONNXError(.unsupported, ctx, "integer tensor '\(name)' used where a float tensor is expected")
        }
        guard c.shape.allSatisfy({ $0 >= 1 }) else { throw ONNXError(.invalidGraph, ctx, "tensor '\(name)' has an empty dimension \(c.shape)") }
        guard floats.allSatisfy(\.isFinite) else { throw ONNXError(.malformed, ctx, "tensor '\(name)' holds NaN or Inf") }
        parameters.declare(name, try Tensor(shape: c.shape, scalars: floats), trainable: trainable)
        nodes.append(Node(op: trainable ? .parameter(name: name) : .buffer(name: name), inputs: [], shape: c.shape, name: name))
        batched.append(false)
        return ValueID(nodes.count - 1)
    }

    /// A tensor operand: an IR value, or a constant made a parameter.
    func operand(_ name: String, trainable: Bool = true, _ ctx: String) throws -> ValueID {
        switch values[name] {
        case .tensor(let id)?: return id
        case .constant(let c, let constName)?: return try leaf(constantName: constName, c, trainable: trainable, ctx)
        case .shape?: throw ONNXError(.unsupported, ctx, "'\(name)' is a shape computation, used where a float tensor is expected")
        case nil: throw ONNXError(.invalidGraph, ctx, "input '\(name)' is not defined")
        }
    }

    /// The data input of an op: a tensor computed from the graph input.
    func activation(_ name: String, _ ctx: String) throws -> ValueID {
        guard case .tensor(let id)? = values[name] else {
            throw ONNXError(.unsupported, ctx, "input '\(name)' is a constant; ops on constants are not folded at import")
        }
        return id
    }

    func constant(_ name: String) -> (tensor: ConstantTensor, name: String)? {
        if case .constant(let c, let n)? = values[name] { (c, n) } else { nil }
    }

    /// An integer vector (or scalar) known at import: shape arithmetic or an integer constant.
    func symbolic(_ name: String, _ ctx: String) throws -> ([SymInt], scalar: Bool) {
        switch values[name] {
        case .shape(let v, let scalar)?: return (v, scalar)
        case .constant(let c, _)?:
            guard let ints = c.ints, c.shape.count <= 1, c.count <= 64 else {
                throw ONNXError(.unsupported, ctx, "'\(name)' must be an integer scalar or vector of at most 64 elements, got shape \(c.shape)")
            }
            return (ints.map { .known($0) }, c.shape.isEmpty)
        default:
            throw ONNXError(.unsupported, ctx, "'\(name)' must be known at import (a constant or shape arithmetic), but it is computed from the input")
        }
    }

    func knownInts(_ name: String, _ ctx: String) throws -> [Int] {
        let (v, _) = try symbolic(name, ctx)
        return try v.map {
            guard case .known(let k) = $0, k == .max || k == .min || (-Int64(Int32.max)...Int64(Int32.max)).contains(k) else {
                throw ONNXError(.unsupported, ctx, "'\(name)' = \(v) must hold known, bounded integers")
            }
            return Int(clamping: k)
        }
    }

    func setShape(_ out: String, _ v: [SymInt], scalar: Bool, _ ctx: String) throws {
        guard v.count <= 64 else { throw ONNXError(.limit, ctx, "shape arithmetic beyond 64 elements") }
        values[out] = .shape(v, scalar: scalar)
    }
}
