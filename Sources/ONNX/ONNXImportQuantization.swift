import GraphCore
import Foundation

// QDQ files (ONNX Runtime's quantizer, our exporter): QuantizeLinear → DequantizeLinear pairs become the IR's
// `fakeQuantize`, DequantizeLinear of integer constants is folded into float constants. The IR has no integer
// tensors, so every other use of the two ops is refused, naming the node and the reason.

extension ImportTranslator {
    /// The checks both ops share: `saturate` (float8 outputs only), `block_size` (blocked quantization, opset
    /// 21) and `output_dtype` at their defaults; `axis` only from opset 13, where it was added. Returns `axis`.
    func quantizationAxis(_ a: Attributes, _ ctx: String) throws -> Int? {
        if let s = try a.int("saturate"), s != 1 {
            throw ONNXError(.unsupported, ctx, "saturate=\(s) is not supported (it applies to float8 outputs, which the IR lacks)")
        }
        if let b = try a.int("block_size"), b != 0 {
            throw ONNXError(.unsupported, ctx, "blocked quantization (block_size \(b)) is not supported; only per-tensor and per-axis")
        }
        if let t = try a.int("output_dtype"), t != 0 {
            throw ONNXError(.unsupported, ctx, "output_dtype \(ONNXDataType.name(Int32(clamping: t))) is not supported; leave it to the zero point's type")
        }
        let axis = try a.int("axis")
        if axis != nil && opset < 13 {
            throw ONNXError(.invalidGraph, ctx, "attribute 'axis' needs opset 13 or later (the file imports opset \(opset))")
        }
        return axis
    }

    /// A float constant scale, each value positive and finite.
    func quantizationScale(_ name: String, _ ctx: String) throws -> ConstantTensor {
        guard let s = constant(name)?.tensor else {
            throw ONNXError(.unsupported, ctx, "scale '\(name)' must be a constant (an initializer or Constant)")
        }
        guard let f = s.floats, s.shape.count <= 1 else {
            throw ONNXError(.invalidGraph, ctx, "scale '\(name)' must be a float scalar or vector, got \(s.floats == nil ? "integers" : "shape \(describe(s.shape))")")
        }
        if let bad = f.first(where: { !($0 > 0 && $0.isFinite) }) {
            throw ONNXError(.invalidGraph, ctx, "scale '\(name)' holds \(bad); scales must be positive and finite")
        }
        return s
    }

    /// The zero point (input 2) for `scale`: a constant of `scale`'s shape, int8, uint8 or int32 with values in
    /// range. Absent, it is uint8 zeros (the ONNX default).
    func zeroPoint(_ n: Onnx_NodeProto, scale: ConstantTensor, _ ctx: String) throws -> (type: ONNXDataType, values: [Int64]) {
        guard n.input.count > 2, !n.input[2].isEmpty else { return (.uint8, Array(repeating: 0, count: scale.count)) }
        let name = n.input[2]
        guard let z = constant(name)?.tensor else {
            throw ONNXError(.unsupported, ctx, "zero point '\(name)' must be a constant (an initializer or Constant)")
        }
        guard let ints = z.ints, let type = z.elementType, [.int8, .uint8, .int32].contains(type) else {
            throw ONNXError(.unsupported, ctx, "zero point '\(name)' has type \(z.elementType.map { ONNXDataType.name($0.rawValue) } ?? "float"); only INT8, UINT8 and INT32 are supported")
        }
        guard z.shape == scale.shape else {
            throw ONNXError(.invalidGraph, ctx, "zero point '\(name)' has shape \(describe(z.shape)), its scale \(describe(scale.shape))")
        }
        try checkRange(ints, type, "zero point '\(name)'", ctx)
        return (type, ints)
    }

    func checkRange(_ values: [Int64], _ type: ONNXDataType, _ what: String, _ ctx: String) throws {
        let range: ClosedRange<Int64> = switch type {
        case .int8: -128...127
        case .uint8: 0...255
        default: Int64(Int32.min)...Int64(Int32.max)
        }
        if let bad = values.first(where: { !range.contains($0) }) {
            throw ONNXError(.malformed, ctx, "\(what) holds \(bad), outside \(ONNXDataType.name(type.rawValue))'s range")
        }
    }

    /// The grid of a QuantizeLinear or DequantizeLinear of an activation: one scale, zero point 0, int8 or uint8.
    func activationGrid(_ n: Onnx_NodeProto, _ ctx: String) throws -> QuantizationAttributes {
        let scale = try quantizationScale(n.input[1], ctx)
        guard scale.count == 1 else {
            throw ONNXError(.unsupported, ctx, "per-axis quantization of an activation (scale of shape \(describe(scale.shape))) is not supported; only one scale per tensor")
        }
        let (type, zero) = try zeroPoint(n, scale: scale, ctx)
        guard type != .int32 else { throw ONNXError(.unsupported, ctx, "an activation quantized to INT32 is not supported; only INT8 and UINT8") }
        guard zero == [0] else {
            throw ONNXError(.unsupported, ctx, "zero point \(zero[0]) is not supported; quantized activations are symmetric (zero point 0)")
        }
        return QuantizationAttributes(scale: scale.floats![0], unsigned: type == .uint8)
    }

    /// The first half of a fake-quantize: its only reader must be a DequantizeLinear (input 0), which
    /// becomes the pair's result (the IR has no integer tensor for a QuantizeLinear's output alone).
    func quantizeLinear(_ n: Onnx_NodeProto, index: Int, _ a: Attributes, name: String, _ ctx: String) throws {
        _ = try quantizationAxis(a, ctx)
        let x = try activation(n.input[0], ctx)
        let out = n.output[0]
        let readers = consumers[out] ?? []
        guard useCount[out] == 1, readers.count == 1, let j = readers.first, protoNodes[j].opType == "DequantizeLinear",
              protoNodes[j].domain.isEmpty || protoNodes[j].domain == "ai.onnx",
              protoNodes[j].input.first == out, !protoNodes[j].input.dropFirst().contains(out) else {
            throw ONNXError(.unsupported, ctx, "a QuantizeLinear must be read by exactly one DequantizeLinear (as its input 0) and nothing else: the pair is a fake-quantize, and the IR has no integer tensors")
        }
        let grid = try activationGrid(n, ctx)
        pairedDequantize[j] = (try append(.fakeQuantize(grid), [x], name: name, ctx), grid, ctx)
    }

    /// The second half of a fake-quantize (its result), or a dequantized constant.
    func dequantizeLinear(_ n: Onnx_NodeProto, index: Int, _ a: Attributes, _ ctx: String) throws -> Value {
        let axis = try quantizationAxis(a, ctx)
        if let pair = pairedDequantize[index] {
            let grid = try activationGrid(n, ctx)
            guard grid == pair.grid else {
                throw ONNXError(.invalidGraph, ctx, "dequantizes with scale \(grid.scale) (\(grid.unsigned ? "UINT8" : "INT8")), but \(pair.quantize) quantized with scale \(pair.grid.scale) (\(pair.grid.unsigned ? "UINT8" : "INT8")); the pair must use the same scale and zero point")
            }
            return .tensor(pair.id)
        }
        let input = n.input[0]
        guard let (c, constName) = constant(input).map({ ($0.tensor, $0.name) }) else {
            throw ONNXError(.unsupported, ctx, "DequantizeLinear of the computed tensor '\(input)' is not supported; only of a constant (quantized weights) or right after a QuantizeLinear (a fake-quantize)")
        }
        // Each fold is a new float tensor: bounded in all like the initializers, so that many nodes folding one
        // large initializer cannot ask for more.
        dequantizedElements += c.count
        guard dequantizedElements <= limits.maxTotalElements else {
            throw ONNXError(.limit, ctx, "dequantized constants hold more than \(limits.maxTotalElements) elements in all")
        }
        guard let q = c.ints, let type = c.elementType, [.int8, .uint8, .int32].contains(type) else {
            throw ONNXError(.unsupported, ctx, "DequantizeLinear of '\(input)' of type \(c.elementType.map { ONNXDataType.name($0.rawValue) } ?? (c.ints == nil ? "float" : "integer")) is not supported; only INT8, UINT8 and INT32")
        }
        try checkRange(q, type, "'\(input)'", ctx)
        let scale = try quantizationScale(n.input[1], ctx)
        let (zeroType, zero) = try zeroPoint(n, scale: scale, ctx)
        if n.input.count > 2, !n.input[2].isEmpty, zeroType != type {
            throw ONNXError(.invalidGraph, ctx, "zero point type \(ONNXDataType.name(zeroType.rawValue)) differs from the input's \(ONNXDataType.name(type.rawValue))")
        }
        if type == .int32, zero.contains(where: { $0 != 0 }) {
            throw ONNXError(.invalidGraph, ctx, "an INT32 input has no zero point but 0")
        }
        // Per tensor (a scalar or a 1-element vector, as ONNX Runtime reads it), or per axis: `inner` elements
        // share a scale, cycling through the `scale.count` channels.
        var inner = 1
        if scale.count != 1 {
            let rank = c.shape.count
            let a = axis ?? 1
            guard a >= -rank, a < rank else {
                throw ONNXError(.invalidGraph, ctx, "axis \(a) is out of range for '\(input)' of shape \(describe(c.shape))")
            }
            let k = a < 0 ? a + rank : a
            guard scale.shape == [c.shape[k]] else {
                throw ONNXError(.invalidGraph, ctx, "scale of shape \(describe(scale.shape)) does not match axis \(a) of '\(input)' \(describe(c.shape)); per-axis scales have one value per index along the axis")
            }
            inner = c.shape[(k + 1)...].reduce(1, *)
        }
        let s = scale.floats!
        var floats = [Float](repeating: 0, count: q.count)
        for i in q.indices {
            let channel = (i / inner) % s.count
            floats[i] = Float(q[i] - zero[channel]) * s[channel]
        }
        guard floats.allSatisfy(\.isFinite) else {
            throw ONNXError(.invalidGraph, ctx, "dequantizing '\(input)' overflows float32")
        }
        let out = n.output[0]
        if constName.hasSuffix("_quantized"), constName.count > "_quantized".count {
            parameterNameOf[out] = String(constName.dropLast("_quantized".count))
        } else {
            parameterNameOf[out] = constName
        }
        return .constant(ConstantTensor(shape: c.shape, values: .floats(floats), elementType: .float), name: out)
    }
}
