import GraphCore
import Foundation

// The op-by-op translation of `ImportTranslator`: each ONNX op (after its arity and attributes are checked against
// `specs`) becomes IR nodes, shape arithmetic, or an alias; each form the IR cannot express is an error that
// names the node, the op and the reason.

extension ImportTranslator {

    struct OpSpec {
        var inputs: ClosedRange<Int>
        var required: Int
        var outputs: Int
        var attributes: Set<String>
    }

    static let specs: [String: OpSpec] = [
        "Conv": OpSpec(inputs: 2...3, required: 2, outputs: 1, attributes: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]),
        "BatchNormalization": OpSpec(inputs: 5...5, required: 5, outputs: 3, attributes: ["epsilon", "momentum", "training_mode", "spatial"]),
        "Relu": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: []),
        "Clip": OpSpec(inputs: 1...3, required: 1, outputs: 1, attributes: []),
        "MaxPool": OpSpec(inputs: 1...1, required: 1, outputs: 2,
                          attributes: ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]),
        "AveragePool": OpSpec(inputs: 1...1, required: 1, outputs: 1,
                              attributes: ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]),
        "GlobalAveragePool": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: []),
        "ReduceMean": OpSpec(inputs: 1...2, required: 1, outputs: 1, attributes: ["axes", "keepdims", "noop_with_empty_axes"]),
        "Gemm": OpSpec(inputs: 2...3, required: 2, outputs: 1, attributes: ["alpha", "beta", "transA", "transB"]),
        "MatMul": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: []),
        "Add": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: []),
        "Sub": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: []),
        "Mul": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: []),
        "Div": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: []),
        "Sigmoid": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: []),
        "HardSigmoid": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["alpha", "beta"]),
        "HardSwish": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: []),
        "Swish": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["alpha"]),
        "Softmax": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["axis"]),
        "Transpose": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["perm"]),
        "Pad": OpSpec(inputs: 2...4, required: 2, outputs: 1, attributes: ["mode"]),
        "ConstantOfShape": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["value"]),
        "Flatten": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["axis"]),
        "Reshape": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: ["allowzero"]),
        "Identity": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: []),
        "Dropout": OpSpec(inputs: 1...3, required: 1, outputs: 2, attributes: ["ratio", "seed"]),
        "Resize": OpSpec(inputs: 1...4, required: 1, outputs: 1,
                         attributes: ["antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
                                      "extrapolation_value", "keep_aspect_ratio_policy", "mode", "nearest_mode"]),
        "Constant": OpSpec(inputs: 0...0, required: 0, outputs: 1,
                           attributes: ["value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
                                        "value_strings", "sparse_value"]),
        "Shape": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["start", "end"]),
        "Gather": OpSpec(inputs: 2...2, required: 2, outputs: 1, attributes: ["axis"]),
        "Slice": OpSpec(inputs: 3...5, required: 3, outputs: 1, attributes: []),
        "Concat": OpSpec(inputs: 1...64, required: 1, outputs: 1, attributes: ["axis"]),
        "Unsqueeze": OpSpec(inputs: 1...2, required: 1, outputs: 1, attributes: ["axes"]),
        "Squeeze": OpSpec(inputs: 1...2, required: 1, outputs: 1, attributes: ["axes"]),
        "Cast": OpSpec(inputs: 1...1, required: 1, outputs: 1, attributes: ["to", "saturate", "round_mode"]),
        "QuantizeLinear": OpSpec(inputs: 2...3, required: 2, outputs: 1, attributes: ["axis", "block_size", "output_dtype", "saturate"]),
        "DequantizeLinear": OpSpec(inputs: 2...3, required: 2, outputs: 1, attributes: ["axis", "block_size", "output_dtype"]),
    ]

    /// The IR node name: the module path of our own and torch's node names (`layer1.0.conv1/Conv` →
    /// `layer1.0.conv1`), else the ONNX name.
    func irName(_ n: Onnx_NodeProto) -> String {
        var name = n.name.hasPrefix("/") ? String(n.name.dropFirst()) : n.name
        if let slash = name.lastIndex(of: "/"), name[name.index(after: slash)...].hasPrefix(n.opType) {
            name = String(name[..<slash])
        } else if name.hasPrefix(n.opType), name.dropFirst(n.opType.count).allSatisfy({ $0 == "_" || $0.isNumber }) {
            name = ""
        }
        return name
    }

    func translate(_ n: Onnx_NodeProto, index: Int) throws {
        let ctx = context(n, index)
        guard n.domain.isEmpty || n.domain == "ai.onnx" else {
            throw ONNXError(.unsupported, ctx, "op '\(n.opType)' of domain '\(n.domain)' is not supported; only the default ONNX domain is")
        }
        if n.opType == "Upsample" {
            throw ONNXError(.unsupported, ctx, "Upsample (deprecated since opset 10) is not supported; export with opset ≥ 11 to get Resize")
        }
        guard let spec = Self.specs[n.opType] else {
            throw ONNXError(.unsupported, ctx, "unsupported op '\(n.opType)'; the importer translates \(ONNXImporter.supportedOps.joined(separator: ", "))")
        }
        guard spec.inputs.contains(n.input.count) else {
            throw ONNXError(.invalidGraph, ctx, "\(n.input.count) inputs; \(n.opType) takes \(spec.inputs.lowerBound == spec.inputs.upperBound ? "\(spec.inputs.lowerBound)" : "\(spec.inputs.lowerBound)…\(spec.inputs.upperBound)")")
        }
        for k in 0..<spec.required where n.input[k].isEmpty {
            throw ONNXError(.invalidGraph, ctx, "required input \(k) is empty")
        }
        guard n.output.count <= spec.outputs, !n.output[0].isEmpty else {
            throw ONNXError(.invalidGraph, ctx, "\(n.output.count) outputs; \(n.opType) has \(spec.outputs), the first one used")
        }
        for out in n.output.dropFirst() where !out.isEmpty && useCount[out, default: 0] > 0 {
            throw ONNXError(.unsupported, ctx, "output '\(out)' (training statistics, pooling indices or a dropout mask) is used; only the first output is supported")
        }
        let a = try Attributes(n, allowed: spec.attributes, ctx)
        let out = n.output[0]
        let name = irName(n)
        func input(_ k: Int) -> String? { k < n.input.count && !n.input[k].isEmpty ? n.input[k] : nil }
        if try foldIntegers(n, a, ctx) { return }

        switch n.opType {
        case "Conv":
            let input0 = try activation(n.input[0], ctx)
            let w = try operand(n.input[1], ctx)
            let (xs, ws) = (shape(input0), shape(w))
            guard xs.count == 4 else { throw ONNXError(.unsupported, ctx, "only 2-D convolution is supported; the input has shape \(describe(xs))") }
            guard ws.count == 4 else { throw ONNXError(.invalidGraph, ctx, "weight '\(n.input[1])' has shape \(describe(ws)); a rank-4 [K, C/group, kH, kW] is expected") }
            if let k = try a.ints("kernel_shape", count: 2) {
                guard k == [ws[2], ws[3]] else { throw ONNXError(.invalidGraph, ctx, "kernel_shape \(k) does not match the weight \(describe(ws))") }
            }
            let strides = try a.pair("strides", range: 1...limits.maxSpatial)
            let dilations = try a.pair("dilations", range: 1...limits.maxSpatial)
            let group = try a.int("group") ?? 1
            guard group >= 1, group <= limits.maxTensorElements else { throw ONNXError(.invalidGraph, ctx, "group \(group) must be positive") }
            // Asymmetric pads (the dynamo exporter folds a constant Pad into the Conv after it) are a zero Pad of the
            // difference, then the convolution with the symmetric part.
            var (x, convAttributes) = (input0, a)
            if try a.string("auto_pad") ?? "NOTSET" == "NOTSET", let p = try a.ints("pads", count: 4), p[0] != p[2] || p[1] != p[3] {
                guard p.allSatisfy({ (0...limits.maxSpatial).contains($0) }) else {
                    throw ONNXError(.invalidGraph, ctx, "pads \(p) must lie in 0…\(limits.maxSpatial)")
                }
                let (h, w) = (min(p[0], p[2]), min(p[1], p[3]))
                let extra = PadAttributes(begin: [0, 0, p[0] - h, p[1] - w], end: [0, 0, p[2] - h, p[3] - w])
                x = try append(.pad(extra), [x], name: name, ctx)
                convAttributes.map["pads"] = .ints("pads", [h, w, h, w])
            }
            let pads = try padding(convAttributes, input: shape(x), kernel: Pair(ws[2], ws[3]), strides: strides, dilations: dilations, ctx)
            var inputs = [x, w]
            if let b = input(2) { inputs.append(try operand(b, ctx)) }
            let attrs = Conv2dAttributes(stride: strides, padding: pads, dilation: dilations, groups: group)
            values[out] = .tensor(try append(.conv2d(attrs), inputs, name: name, ctx))

        case "BatchNormalization":
            guard try a.int("training_mode") ?? 0 == 0 else { throw ONNXError(.unsupported, ctx, "training_mode=1 is not supported; export the model in eval mode") }
            guard try a.int("spatial") ?? 1 == 1 else { throw ONNXError(.unsupported, ctx, "spatial=0 is not supported") }
            let epsilon = try a.float("epsilon") ?? 1e-5
            let momentum = try a.float("momentum") ?? 0.9
            guard epsilon >= 0, momentum.isFinite else { throw ONNXError(.invalidGraph, ctx, "epsilon \(epsilon) must be non-negative, momentum finite") }
            let x = try activation(n.input[0], ctx)
            let inputs = [x, try operand(n.input[1], ctx), try operand(n.input[2], ctx),
                          try operand(n.input[3], trainable: false, ctx), try operand(n.input[4], trainable: false, ctx)]
            let attrs = BatchNormAttributes(epsilon: epsilon, momentum: 1 - momentum)
            values[out] = .tensor(try append(.batchNorm2d(attrs), inputs, name: name, ctx))

        case "Relu":
            values[out] = .tensor(try append(.relu, [try activation(n.input[0], ctx)], name: name, ctx))

        case "Clip":
            let x = try activation(n.input[0], ctx)
            let lo = try input(1).map { try scalarFloat($0, ctx) } ?? -.infinity
            let hi = try input(2).map { try scalarFloat($0, ctx) } ?? .infinity
            let op: Op
            if lo == 0 && hi == 6 { op = .relu6 } else if lo == 0 && hi == .infinity { op = .relu } else {
                throw ONNXError(.unsupported, ctx, "Clip(min \(lo), max \(hi)) is not supported; only Clip(0, 6) (ReLU6) and Clip(0, ∞) (ReLU)")
            }
            values[out] = .tensor(try append(op, [x], name: name, ctx))

        case "MaxPool", "AveragePool":
            let x = try activation(n.input[0], ctx)
            let xs = shape(x)
            guard xs.count == 4 else { throw ONNXError(.unsupported, ctx, "only 2-D pooling is supported; the input has shape \(describe(xs))") }
            guard let k = try a.ints("kernel_shape", count: 2) else { throw ONNXError(.invalidGraph, ctx, "kernel_shape is required") }
            guard k.allSatisfy({ (1...limits.maxSpatial).contains($0) }) else { throw ONNXError(.invalidGraph, ctx, "kernel_shape \(k) out of range") }
            let kernel = Pair(k[0], k[1])
            let strides = try a.pair("strides", range: 1...limits.maxSpatial)
            guard try a.pair("dilations", range: 1...limits.maxSpatial) == Pair(1) else {
                throw ONNXError(.unsupported, ctx, "dilated pooling is not supported")
            }
            let pads = try padding(a, input: xs, kernel: kernel, strides: strides, dilations: Pair(1), ctx)
            if n.opType == "AveragePool", try a.int("count_include_pad") ?? 0 == 0, pads != Pair(0) {
                throw ONNXError(.unsupported, ctx, "count_include_pad=0 with padding \(pads) is not supported (the IR's average pooling divides by the whole window, PyTorch's count_include_pad=True)")
            }
            let attrs = Pool2dAttributes(kernel: kernel, stride: strides, padding: pads)
            if try a.int("ceil_mode") ?? 0 != 0 {
                for axis in 2...3 {
                    let (size, kk, s, p) = axis == 2 ? (xs[2], kernel.h, strides.h, pads.h) : (xs[3], kernel.w, strides.w, pads.w)
                    let floorSize = ShapeInference.convOutputSize(size, kernel: kk, stride: s, padding: p, dilation: 1)
                    guard floorSize > 0 else { continue }  // the window does not fit: the shape check below says so
                    var ceilSize = (size + 2 * p - kk + s - 1) / s + 1
                    if (ceilSize - 1) * s >= size + p { ceilSize -= 1 }  // the last window must start inside the input
                    guard ceilSize == floorSize else {
                        throw ONNXError(.unsupported, ctx, "ceil_mode=1 gives \(ceilSize) outputs along axis \(axis) where floor mode gives \(floorSize); only floor-mode pooling is supported")
                    }
                }
            }
            let op: Op = n.opType == "MaxPool" ? .maxPool2d(attrs) : .avgPool2d(attrs)
            values[out] = .tensor(try append(op, [x], name: name, ctx))

        case "GlobalAveragePool":
            values[out] = .tensor(try append(.globalAvgPool, [try activation(n.input[0], ctx)], name: name, ctx))

        case "ReduceMean":
            let x = try activation(n.input[0], ctx)
            var axes: [Int]?
            if opset >= 18 {
                guard try a.ints("axes", count: nil) == nil else { throw ONNXError(.invalidGraph, ctx, "axes is an input since opset 18") }
                axes = try input(1).map { try knownInts($0, ctx) }
            } else {
                guard input(1) == nil else { throw ONNXError(.invalidGraph, ctx, "axes is an attribute before opset 18") }
                axes = try a.ints("axes", count: nil)
            }
            values[out] = .tensor(try reduceMeanOp(x, axes: axes, keepDims: try a.int("keepdims") ?? 1 != 0,
                                                   noopWithEmptyAxes: opset >= 18 && (try a.int("noop_with_empty_axes") ?? 0) != 0, name: name, ctx))

        case "Gemm":
            guard try a.int("transA") ?? 0 == 0 else { throw ONNXError(.unsupported, ctx, "transA=1 is not supported") }
            let transB = try a.int("transB") ?? 0
            let alpha = try a.float("alpha") ?? 1, beta = try a.float("beta") ?? 1
            let x = try activation(n.input[0], ctx)
            let w = try linearWeight(n.input[1], transposed: transB == 0, alpha: alpha, ctx)
            var inputs = [x, w]
            if let c = input(2) { inputs.append(try linearBias(c, features: shape(w)[0], beta: beta, ctx)) }
            values[out] = .tensor(try append(.linear, inputs, name: name, ctx))

        case "MatMul":
            let x = try activation(n.input[0], ctx)
            guard shape(x).count == 2 else {
                throw ONNXError(.unsupported, ctx, "MatMul of a rank-\(shape(x).count) input; only [N, in] × [in, out] is supported")
            }
            let w = try linearWeight(n.input[1], transposed: true, alpha: 1, ctx)
            var inputs = [x, w]
            // A bias added right after (torch's MatMul + Add for a linear layer) becomes the linear's bias.
            var fusedAdd: Int?
            if useCount[out] == 1, let j = consumers[out]?.first, protoNodes[j].opType == "Add", protoNodes[j].domain.isEmpty,
               protoNodes[j].input.count == 2 {
                let other = protoNodes[j].input[0] == out ? protoNodes[j].input[1] : protoNodes[j].input[0]
                if let c = constant(other)?.tensor, c.floats != nil, c.shape == [shape(w)[0]] || c.shape == [1, shape(w)[0]] {
                    inputs.append(try linearBias(other, features: shape(w)[0], beta: 1, ctx))
                    fusedAdd = j
                }
            }
            let y = try append(.linear, inputs, name: name, ctx)
            if let j = fusedAdd { fusedAdds[j] = y }
            values[out] = .tensor(y)

        case "Add", "Sub", "Mul", "Div":
            if let y = fusedAdds[index] { values[out] = .tensor(y); return }
            let op: BinaryOperator = switch n.opType { case "Add": .add; case "Sub": .sub; case "Mul": .mul; default: .div }
            values[out] = .tensor(try binary(n, op, name: name, ctx))

        case "Sigmoid", "HardSigmoid", "HardSwish", "Swish":
            values[out] = .tensor(try activationOp(n, a, name: name, ctx))

        case "Softmax":
            values[out] = .tensor(try softmaxOp(n, a, name: name, ctx))

        case "Transpose":
            values[out] = .tensor(try transposeOp(n, a, name: name, ctx))

        case "Pad":
            values[out] = .tensor(try padOp(n, a, name: name, ctx))

        case "Flatten":
            let x = try activation(n.input[0], ctx)
            let rank = shape(x).count
            let axis = try a.int("axis") ?? 1
            guard axis >= -rank, axis <= rank else { throw ONNXError(.invalidGraph, ctx, "axis \(axis) out of range for rank \(rank)") }
            guard (axis < 0 ? axis + rank : axis) == 1, rank >= 2 else {
                throw ONNXError(.unsupported, ctx, "Flatten with axis \(axis) of a rank-\(rank) input; only axis 1 (keep the batch) is supported")
            }
            values[out] = .tensor(try append(.flatten(startDim: 1), [x], name: name, ctx))

        case "Reshape":
            let x = try activation(n.input[0], ctx)
            let (target, _) = try symbolic(n.input[1], ctx)
            values[out] = .tensor(try reshape(x, to: target, allowZero: try a.int("allowzero") ?? 0 != 0, name: name, ctx))

        case "Identity", "Dropout":
            if n.opType == "Dropout", let t = input(2) {
                guard let c = constant(t)?.tensor, c.count == 1, (c.ints?[0] ?? 1) == 0 || (c.floats?[0] ?? 1) == 0 else {
                    throw ONNXError(.unsupported, ctx, "training_mode must be absent or a constant false")
                }
            }
            switch values[n.input[0]] {
            case .constant(let c, _)?: values[out] = .constant(c, name: out)  // keeps torch's aliased state-dict names
            case let v?: values[out] = v
            case nil: throw ONNXError(.invalidGraph, ctx, "input '\(n.input[0])' is not defined")
            }

        case "Constant":
            guard n.attribute.count == 1 else { throw ONNXError(.invalidGraph, ctx, "a Constant has exactly one value attribute, found \(n.attribute.count)") }
            let c: ConstantTensor
            if let t = try a.tensor("value") {
                try checkFieldTypes(t, ctx)
                c = try decoder.decode(t, ctx)
            } else if let f = try a.float("value_float") {
                c = ConstantTensor(shape: [], values: .floats([f]), elementType: .float)
            } else if let f = try a.floats("value_floats") {
                c = ConstantTensor(shape: [f.count], values: .floats(f), elementType: .float)
            } else if let i = try a.int64("value_int") {
                c = ConstantTensor(shape: [], values: .ints([i]), elementType: .int64)
            } else if let i = try a.int64s("value_ints") {
                c = ConstantTensor(shape: [i.count], values: .ints(i), elementType: .int64)
            } else {
                throw ONNXError(.unsupported, ctx, "only tensor, float and int Constants are supported")
            }
            values[out] = .constant(c, name: out)

        case "Shape":
            let dims: [SymInt]
            switch values[n.input[0]] {
            case .tensor(let id)?:
                dims = shape(id).enumerated().map { $0.offset == 0 && batched[id.index] ? .batch : .known(Int64($0.element)) }
            case .constant(let c, _)?: dims = c.shape.map { .known(Int64($0)) }
            case .shape(let v, let scalar)?: dims = scalar ? [] : [.known(Int64(v.count))]
            case nil: throw ONNXError(.invalidGraph, ctx, "input not defined")
            }
            let r = dims.count
            let start = clampIndex(Int64(try a.int("start") ?? 0), r), end = clampIndex(Int64(try a.int("end") ?? r), r)
            try setShape(out, start < end ? Array(dims[start..<end]) : [], scalar: false, ctx)

        case "Gather":
            let (data, scalarData) = try symbolic(n.input[0], ctx)
            guard !scalarData, try a.int("axis") ?? 0 == 0 || a.int("axis") == -1 else {
                throw ONNXError(.unsupported, ctx, "Gather is supported for shape arithmetic only (axis 0 of an integer vector)")
            }
            let (indices, scalarIndex) = try symbolic(n.input[1], ctx)
            let picked: [SymInt] = try indices.map {
                guard case .known(let k) = $0, k >= -Int64(data.count), k < Int64(data.count) else {
                    throw ONNXError(.invalidGraph, ctx, "index \($0) out of range for \(data.count) elements")
                }
                return data[Int(k < 0 ? k + Int64(data.count) : k)]
            }
            try setShape(out, picked, scalar: scalarIndex, ctx)

        case "Slice":
            let (data, scalar) = try symbolic(n.input[0], ctx)
            guard !scalar else { throw ONNXError(.invalidGraph, ctx, "Slice of a scalar") }
            let starts = try knownInts(n.input[1], ctx), ends = try knownInts(n.input[2], ctx)
            let axes = try input(3).map { try knownInts($0, ctx) } ?? [0]
            let steps = try input(4).map { try knownInts($0, ctx) } ?? [1]
            guard starts.count == 1, ends.count == 1, axes == [0] || axes == [-1], steps == [1] else {
                throw ONNXError(.unsupported, ctx, "Slice is supported for shape arithmetic only (one axis, step 1)")
            }
            let s = clampIndex(Int64(starts[0]), data.count), e = clampIndex(Int64(ends[0]), data.count)
            try setShape(out, s < e ? Array(data[s..<e]) : [], scalar: false, ctx)

        case "Concat":
            // Tensors: the IR's concat; integer vectors of shape arithmetic: evaluated here.
            if n.input.contains(where: { if case .tensor? = values[$0] { true } else { false } })
                || n.input.allSatisfy({ $0.isEmpty || constant($0)?.tensor.floats != nil }) {
                values[out] = .tensor(try concatTensors(n, a, name: name, ctx))
                return
            }
            guard try a.int("axis") == 0 || a.int("axis") == -1 else {
                throw ONNXError(.unsupported, ctx, "Concat of integer vectors (shape arithmetic) is supported along axis 0 only")
            }
            var all: [SymInt] = []
            for name in n.input where !name.isEmpty {
                let (v, scalar) = try symbolic(name, ctx)
                guard !scalar else { throw ONNXError(.invalidGraph, ctx, "Concat of a scalar") }
                all += v
            }
            try setShape(out, all, scalar: false, ctx)

        case "Unsqueeze", "Squeeze":
            let (v, scalar) = try symbolic(n.input[0], ctx)
            let axes: [Int]? = opset >= 13 ? try input(1).map { try knownInts($0, ctx) } : try a.ints("axes", count: nil)
            if n.opType == "Unsqueeze" {
                guard scalar, axes == [0] || axes == [-1] else {
                    throw ONNXError(.unsupported, ctx, "Unsqueeze is supported for shape arithmetic only (a scalar to a 1-element vector)")
                }
                try setShape(out, v, scalar: false, ctx)
            } else {
                guard !scalar, v.count == 1, axes == nil || axes == [0] || axes == [-1] else {
                    throw ONNXError(.unsupported, ctx, "Squeeze is supported for shape arithmetic only (a 1-element vector to a scalar)")
                }
                try setShape(out, v, scalar: true, ctx)
            }

        case "Cast":
            let to = try a.int("to") ?? 0
            let isIntegers: Bool = switch values[n.input[0]] {
            case .shape?: true
            case .constant(let c, _)?: c.ints != nil
            default: false
            }
            switch values[n.input[0]] {
            case _ where isIntegers:
                guard to == Int(ONNXDataType.int64.rawValue) || to == Int(ONNXDataType.int32.rawValue) else {
                    throw ONNXError(.unsupported, ctx, "Cast of integers to \(ONNXDataType.name(Int32(clamping: to))) is not supported")
                }
                values[out] = values[n.input[0]]
            case .constant(var c, _)? where to == Int(ONNXDataType.float.rawValue):
                c.elementType = .float
                values[out] = .constant(c, name: out)
            default:
                throw ONNXError(.unsupported, ctx, "Cast is supported for shape arithmetic and float constants only")
            }

        case "Resize":
            values[out] = .tensor(try resize(n, a, name: name, ctx))

        case "ConstantOfShape":
            throw ONNXError(.unsupported, ctx, "ConstantOfShape of a shape computed from the input (only known shapes are evaluated at import)")

        case "QuantizeLinear":
            try quantizeLinear(n, index: index, a, name: name, ctx)

        case "DequantizeLinear":
            values[out] = try dequantizeLinear(n, index: index, a, ctx)

        default:
            throw ONNXError(.unsupported, ctx, "unsupported op '\(n.opType)'")
        }
    }

    func clampIndex(_ v: Int64, _ count: Int) -> Int {
        let c = Int64(count)
        let shifted = v < 0 ? v + c : v  // v < 0 and c ≥ 0: no overflow
        return Int(min(max(shifted, 0), c))
    }

    func scalarFloat(_ name: String, _ ctx: String) throws -> Float {
        guard let c = constant(name)?.tensor, c.count == 1 else {
            throw ONNXError(.unsupported, ctx, "'\(name)' must be a constant scalar")
        }
        return c.floats?[0] ?? Float(c.ints![0])
    }

    /// Symmetric `(padH, padW)` from `pads`/`auto_pad`; SAME_* are resolved for the input's size.
    func padding(_ a: Attributes, input xs: [Int], kernel: Pair, strides: Pair, dilations: Pair, _ ctx: String) throws -> Pair {
        let autoPad = try a.string("auto_pad") ?? "NOTSET"
        let pads = try a.ints("pads", count: 4)
        if let pads {
            guard pads.allSatisfy({ (0...limits.maxSpatial).contains($0) }) else {
                throw ONNXError(.invalidGraph, ctx, "pads \(pads) must lie in 0…\(limits.maxSpatial)")
            }
        }
        switch autoPad {
        case "NOTSET":
            let p = pads ?? [0, 0, 0, 0]
            guard p[0] == p[2], p[1] == p[3] else {
                throw ONNXError(.unsupported, ctx, "asymmetric pads \(p) are not supported (begin and end must be equal)")
            }
            return Pair(p[0], p[1])
        case "VALID":
            guard pads == nil || pads! == [0, 0, 0, 0] else { throw ONNXError(.invalidGraph, ctx, "auto_pad VALID with pads \(pads!)") }
            return Pair(0)
        case "SAME_UPPER", "SAME_LOWER":
            guard pads == nil else { throw ONNXError(.invalidGraph, ctx, "auto_pad \(autoPad) with explicit pads") }
            func same(_ size: Int, _ k: Int, _ s: Int, _ d: Int) throws -> Int {
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                guard total % 2 == 0 else {
                    throw ONNXError(.unsupported, ctx, "auto_pad \(autoPad) needs asymmetric padding (\(total) in all) here; not supported")
                }
                return total / 2
            }
            return Pair(try same(xs[2], kernel.h, strides.h, dilations.h), try same(xs[3], kernel.w, strides.w, dilations.w))
        default:
            throw ONNXError(.invalidGraph, ctx, "auto_pad '\(autoPad)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
    }

    /// The `[out, in]` weight of a linear layer from a Gemm/MatMul operand (`[in, out]` when `transposed`).
    func linearWeight(_ name: String, transposed: Bool, alpha: Float, _ ctx: String) throws -> ValueID {
        guard alpha.isFinite else { throw ONNXError(.invalidGraph, ctx, "alpha \(alpha) is not finite") }
        guard let ref = constant(name) else {
            guard !transposed, alpha == 1 else {
                throw ONNXError(.unsupported, ctx, "a computed weight '\(name)' must already be [out, in] (transB=1, alpha=1)")
            }
            return try operand(name, ctx)
        }
        let (c, constName) = (ref.tensor, ref.name)
        guard c.shape.count == 2, let floats = c.floats else {
            throw ONNXError(.invalidGraph, ctx, "weight '\(name)' must be a float matrix, got shape \(c.shape)")
        }
        if !transposed && alpha == 1 { return try leaf(constantName: constName, c, trainable: true, ctx) }
        var w = floats
        var shape = c.shape
        if transposed {
            let (rows, cols) = (c.shape[0], c.shape[1])
            for r in 0..<rows { for k in 0..<cols { w[k * rows + r] = floats[r * cols + k] } }
            shape = [cols, rows]
        }
        if alpha != 1 { w = w.map { $0 * alpha } }
        return try derivedLeaf(base: constName, ConstantTensor(shape: shape, values: .floats(w)), ctx)
    }

    /// A `[features]` bias from Gemm's C (`[features]`, `[1, features]`, or a broadcast scalar), times beta.
    func linearBias(_ name: String, features: Int, beta: Float, _ ctx: String) throws -> ValueID {
        guard beta.isFinite else { throw ONNXError(.invalidGraph, ctx, "beta \(beta) is not finite") }
        guard let ref = constant(name) else {
            let id = try operand(name, ctx)
            guard shape(id) == [features], beta == 1 else {
                throw ONNXError(.unsupported, ctx, "a computed bias '\(name)' must be [\(features)] with beta=1")
            }
            return id
        }
        let (c, constName) = (ref.tensor, ref.name)
        guard let floats = c.floats else { throw ONNXError(.invalidGraph, ctx, "bias '\(name)' must be a float tensor") }
        if c.shape == [features] && beta == 1 { return try leaf(constantName: constName, c, trainable: true, ctx) }
        let b: [Float]
        if c.shape == [features] || c.shape == [1, features] {
            b = floats
        } else if c.count == 1 && c.shape.count <= 2 {
            b = Array(repeating: floats[0], count: features)
        } else {
            throw ONNXError(.unsupported, ctx, "bias '\(name)' of shape \(c.shape) does not broadcast to [\(features)] per sample")
        }
        return try derivedLeaf(base: constName, ConstantTensor(shape: [features], values: .floats(b.map { $0 * beta })), ctx)
    }

    /// A Reshape that keeps the batch and merges the trailing dims (`[N, C, 1, 1]` → `[N, C]`) is a flatten;
    /// one that changes nothing is dropped. Others would need a general reshape op, which the IR lacks.
    func reshape(_ x: ValueID, to target: [SymInt], allowZero: Bool, name: String, _ ctx: String) throws -> ValueID {
        let xs = shape(x)
        guard !target.isEmpty, target.count <= limits.maxRank else {
            throw ONNXError(.unsupported, ctx, "Reshape to rank \(target.count) is not supported")
        }
        var resolved: [Int] = []
        var inferred: Int?
        for (i, t) in target.enumerated() {
            switch t {
            case .batch:
                resolved.append(xs[0])
            case .known(let v):
                if v == -1 {
                    guard inferred == nil else { throw ONNXError(.invalidGraph, ctx, "Reshape target \(target) has two -1") }
                    inferred = i
                    resolved.append(1)
                } else if v == 0 && !allowZero {
                    guard i < xs.count else { throw ONNXError(.invalidGraph, ctx, "Reshape target \(target): 0 copies a dimension the input \(describe(xs)) lacks") }
                    resolved.append(xs[i])
                } else {
                    guard v >= 1, v <= Int64(limits.maxTensorElements) else {
                        throw ONNXError(.invalidGraph, ctx, "Reshape target \(target) has dimension \(v)")
                    }
                    resolved.append(Int(v))
                }
            }
        }
        let total = shape(x).reduce(1, *)  // ≤ maxTensorElements: checked when x was made
        guard let known = checkedCount(resolved, limit: limits.maxTensorElements), known > 0 else {
            throw ONNXError(.invalidGraph, ctx, "Reshape target \(target) is empty or too large")
        }
        if let i = inferred {
            guard total % known == 0 else { throw ONNXError(.invalidGraph, ctx, "cannot reshape \(describe(xs)) to \(target)") }
            resolved[i] = total / known
        }
        guard resolved.reduce(1, *) == total else {
            throw ONNXError(.invalidGraph, ctx, "cannot reshape \(describe(xs)) (\(total) elements) to \(describe(resolved))")
        }
        // The first dim must follow the batch: the batch itself, a copied dim 0, or the -1 of a fixed-size rest.
        let batchFollows: Bool = switch target[0] {
        case .batch: true
        case .known(let v): v == -1 || (v == 0 && !allowZero) || !batched[x.index]
        }
        if resolved == xs && batchFollows { return x }
        let k = resolved.count - 1
        if k >= 1, k < xs.count, batchFollows, Array(xs[..<k]) == Array(resolved[..<k]), xs[k...].reduce(1, *) == resolved[k] {
            return try append(.flatten(startDim: k), [x], name: name, ctx)
        }
        if k >= 1, k < xs.count, Array(xs[..<k]) == Array(resolved[..<k]), case .known(let v) = target[0], v == Int64(xs[0]) {
            // A batch written as a number (a fixed-batch export): the same flatten at that batch.
            return try append(.flatten(startDim: k), [x], name: name, ctx)
        }
        throw ONNXError(.unsupported, ctx, "Reshape of \(describe(xs)) to \(target) is not supported; only flattening the trailing dimensions (keeping the batch) is")
    }

    func resize(_ n: Onnx_NodeProto, _ a: Attributes, name: String, _ ctx: String) throws -> ValueID {
        let mode = try a.string("mode") ?? "nearest"
        guard mode == "linear" else {
            throw ONNXError(.unsupported, ctx, "Resize mode '\(mode)' is not supported; only 'linear' (bilinear)")
        }
        let transform = try a.string("coordinate_transformation_mode") ?? "half_pixel"
        guard transform == "half_pixel" || transform == "pytorch_half_pixel" else {
            throw ONNXError(.unsupported, ctx, "coordinate_transformation_mode '\(transform)' is not supported; only half_pixel and pytorch_half_pixel (PyTorch's align_corners=False)")
        }
        guard try a.int("exclude_outside") ?? 0 == 0, try a.int("antialias") ?? 0 == 0 else {
            throw ONNXError(.unsupported, ctx, "exclude_outside and antialias must be 0")
        }
        guard try a.string("keep_aspect_ratio_policy") ?? "stretch" == "stretch" else {
            throw ONNXError(.unsupported, ctx, "keep_aspect_ratio_policy must be 'stretch'")
        }
        let x = try activation(n.input[0], ctx)
        let xs = shape(x)
        guard xs.count == 4 else { throw ONNXError(.unsupported, ctx, "only resizing [N, C, H, W] is supported; the input has shape \(describe(xs))") }
        let axes = try (a.ints("axes", count: nil) ?? [0, 1, 2, 3]).map { axis -> Int in
            guard axis >= -4, axis < 4 else { throw ONNXError(.invalidGraph, ctx, "axis \(axis) out of range") }
            return axis < 0 ? axis + 4 : axis
        }
        guard Set(axes).count == axes.count else { throw ONNXError(.invalidGraph, ctx, "repeated axes \(axes)") }
        func present(_ k: Int) -> String? {
            guard k < n.input.count, !n.input[k].isEmpty else { return nil }
            if let c = constant(n.input[k])?.tensor, c.count == 0 { return nil }  // torch's empty roi / scales
            return n.input[k]
        }
        var out = xs
        switch (present(2), present(3)) {
        case (nil, let sizes?):
            let (v, _) = try symbolic(sizes, ctx)
            guard v.count == axes.count else { throw ONNXError(.invalidGraph, ctx, "\(v.count) sizes for \(axes.count) axes") }
            for (axis, s) in zip(axes, v) {
                switch (axis, s) {
                case (0, .batch): continue
                case (_, .known(let k)) where axis < 2:
                    guard k == Int64(xs[axis]) else { throw ONNXError(.unsupported, ctx, "resizing the batch or channel axis (\(xs[axis]) → \(k)) is not supported") }
                case (_, .known(let k)):
                    guard k >= 1, k <= Int64(limits.maxSpatial) else { throw ONNXError(.invalidGraph, ctx, "size \(k) out of 1…\(limits.maxSpatial)") }
                    out[axis] = Int(k)
                default:
                    throw ONNXError(.unsupported, ctx, "sizes \(v) must be known at import")
                }
            }
        case (let scales?, nil):
            guard let f = constant(scales)?.tensor.floats, f.count == axes.count else {
                throw ONNXError(.unsupported, ctx, "scales must be a float constant with one value per axis")
            }
            for (axis, s) in zip(axes, f) {
                guard s.isFinite, s > 0 else { throw ONNXError(.invalidGraph, ctx, "scale \(s) must be positive") }
                if axis < 2 {
                    guard s == 1 else { throw ONNXError(.unsupported, ctx, "resizing the batch or channel axis (scale \(s)) is not supported") }
                    continue
                }
                let size = Double(xs[axis]) * Double(s)
                guard size >= 1, size <= Double(limits.maxSpatial) else {
                    throw ONNXError(.invalidGraph, ctx, "scale \(s) gives \(size) pixels along axis \(axis)")
                }
                out[axis] = Int(size.rounded(.down))
                // ONNX samples at 1/scale, the IR at in/out: equal when in·scale is whole.
                let ratio = Double(xs[axis]) / Double(out[axis])
                guard abs(ratio - 1 / Double(s)) <= 1e-6 * ratio else {
                    throw ONNXError(.unsupported, ctx, "scale \(s) maps \(xs[axis]) to \(out[axis]) pixels but samples at 1/scale ≠ \(xs[axis])/\(out[axis]); give sizes instead")
                }
            }
        case (nil, nil):
            throw ONNXError(.invalidGraph, ctx, "Resize needs scales or sizes")
        case (_?, _?):
            throw ONNXError(.invalidGraph, ctx, "Resize takes scales or sizes, not both")
        }
        if transform == "pytorch_half_pixel" && (out[2] == 1 || out[3] == 1) {
            throw ONNXError(.unsupported, ctx, "pytorch_half_pixel to a size of 1 samples at 0, not the centre; not supported")
        }
        return try append(.resizeBilinear(height: out[2], width: out[3]), [x], name: name, ctx)
    }
}
