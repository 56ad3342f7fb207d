import CDNNL
import CPUBackend
import GraphCore

/// Turns planned (fused) steps into oneDNN primitives with their memory: descriptors chosen per step,
/// weights reordered once, buffers placed in the arena by `MemoryPlanner`.
struct PlanBuilder {
    enum ArgRef {
        case buffer(Int)
        case weight(Int)
        case scratch
        case userInput
    }

    struct PendingStep {
        /// nil for a step of our own (`custom`).
        let primitive: Primitive?
        var args: [(slot: Int32, md: const_dnnl_memory_desc_t, ref: ArgRef)]
        let kind: OpKind
        let name: String
        var preCopy: (from: Int, to: Int, bytes: Int)?
        /// A kernel of our own (`ArenaKernel`) on these buffers, instead of `primitive`'s args.
        var custom: (kernel: any ArenaKernel, input: Int, output: Int, residual: Int?)?
    }

    /// What the builder leaves: steps whose arguments are arena offsets and weight pointers, the sizes of the buffers
    /// each execution context allocates for itself, and what keeps the descriptors and weights alive.
    struct Compiled {
        let steps: [InferencePlan.Step]
        /// Bytes of the activation arena and of the scratchpad (at least 64 each).
        let arenaBytes: Int
        let scratchBytes: Int
        let weights: [AlignedBuffer]
        let outputOffset: Int
        let outputShape: [Int]
        let descriptors: [MemoryDesc]
        /// The caller's row-major NCHW input (one of `descriptors`).
        let userInputMD: const_dnnl_memory_desc_t
    }

    let graph: Graph
    let parameters: ParameterStore
    let layout: PlanLayout
    let ctx: DNNLContext
    let shapes: [[Int]]
    let inputNode: Int
    /// Element type of activations and weights (float32, or bfloat16 for a BF16 plan); biases,
    /// normalisation vectors and the output stay float32.
    let act: dnnl_data_type_t
    /// Whether convolutions compute in int8.
    let isInt8: Bool
    /// Whether kernels that can store weights as IEEE half do (an FP16 plan, whose weights are already rounded to half).
    let halfWeights: Bool
    /// Activation ranges for an INT8 plan, for values no `fakeQuantize` node fixes the grid of.
    let calibration: Int8Calibration?
    /// The range INT8 convolutions quantize their weights to.
    let int8Weights: Int8WeightRange
    /// The grid a node's value is rounded onto by a `fakeQuantize` reader (a quantized model's own scales).
    let gridOf: [Int: QuantizationAttributes]
    /// The scale of each node stored as integers (`x = scale · q`).
    var valueScale: [Int: Float] = [:]

    var bufferBytes: [Int] = []
    /// Graph node → (buffer, descriptor) of its value.
    var values: [Int: (buffer: Int, md: const_dnnl_memory_desc_t)] = [:]
    var descriptors: [MemoryDesc] = []
    var weights: [AlignedBuffer] = []
    var pending: [PendingStep] = []
    /// Steps (by index) whose primitives are created, and run, for one thread in a plan that otherwise
    /// runs on the team: small steps, where the fork/join costs more than the second thread brings.
    var singleThreadedSteps: Set<Int> = []
    /// Planned-step index of each node's last reader (graph outputs: never).
    var lastReader: [Int] = []
    var userInputMD: MemoryDesc
    /// Where laid-out weights are looked up first (the slices of a batch-split plan share one copy).
    var sharedWeights = WeightCache()
    /// Direct, Winograd or timed per shape, for fp32 3×3 stride-1 convolutions.
    var convolutions = ConvolutionAlgorithm.direct
    /// Kernel families (by name) `.auto` must not take here (`InferencePlan` races plans with and without each).
    var excluded: Set<String> = []
    /// The schedule `.winograd` and `.winograd4x4` use.
    var winogradForcedSchedule = WinogradConv3x3.Schedule.chunked(tiles: nil)

    init(graph: Graph, parameters: ParameterStore, inputName: String, inputShape: [Int], layout: PlanLayout, precision: Precision,
         calibration: Int8Calibration?, int8Weights: Int8WeightRange, ctx: DNNLContext) throws {
        self.graph = graph; self.parameters = parameters; self.layout = layout; self.ctx = ctx; self.int8Weights = int8Weights
        act = precision == .bf16 ? dnnl_bf16 : dnnl_f32
        var grids: [Int: QuantizationAttributes] = [:]
        for node in graph.nodes { if case .fakeQuantize(let q) = node.op, grids[node.inputs[0].index] == nil { grids[node.inputs[0].index] = q } }
        gridOf = grids
        isInt8 = precision == .int8
        halfWeights = precision == .fp16
        if precision == .int8 {
            if calibration == nil && grids.isEmpty {
                throw EngineError.invalid("runtime", "an INT8 plan needs a calibration (Int8Calibration) or a quantized model (fake_quantize nodes)")
            }
            if let calibration, calibration.ranges.count != graph.nodes.count {
                throw EngineError.invalid("runtime", "the INT8 calibration was measured on another graph (\(calibration.ranges.count) nodes, this one has \(graph.nodes.count))")
            }
            guard layout == .channelsLast else { throw EngineError.unsupported("runtime", "INT8 plans use the channelsLast layout") }
        }
        self.calibration = precision == .int8 ? calibration : nil
        guard let input = graph.inputID(inputName) else { throw EngineError.invalid("runtime", "the graph has no input '\(inputName)'") }
        inputNode = input.index
        shapes = try graph.inferShapes(inputs: [inputName: inputShape])
        guard inputShape.count == 4 else { throw EngineError.unsupported("runtime", "inputs must be NCHW images, got \(describe(inputShape))") }
        userInputMD = try MemoryDesc(shape: inputShape, layout: .rowMajor)
    }

    // MARK: descriptors and buffers

    /// A primitive owned by the plan (oneDNN's own primitive cache makes re-creating one cheap).
    func makePrimitive(_ name: String, _ make: () throws -> dnnl_primitive_desc_t) throws -> Primitive {
        try forTheNextStep { try Primitive(pd: make(), op: name) }
    }

    /// Runs `body` (which creates what the next step runs) seeing the thread count that step will run with.
    /// Were a conversion step appended between creating a primitive and appending its step, the two would
    /// swap thread counts: slower, never wrong (oneDNN runs a primitive correctly on any team size).
    func forTheNextStep<R>(_ body: () throws -> R) rethrows -> R {
        guard singleThreadedSteps.contains(pending.count) else { return try body() }
        let team = omp_get_max_threads()
        omp_set_num_threads(1)
        defer { omp_set_num_threads(team) }
        return try body()
    }

    mutating func keep(_ md: MemoryDesc) -> const_dnnl_memory_desc_t { descriptors.append(md); return md.handle }

    mutating func newBuffer(_ md: const_dnnl_memory_desc_t) -> Int {
        bufferBytes.append(dnnl_memory_desc_get_size(md))
        return bufferBytes.count - 1
    }

    /// A descriptor for an activation of `shape` in the plan's layout (or `any` for primitives that choose).
    mutating func activationMD(_ shape: [Int], any: Bool) throws -> const_dnnl_memory_desc_t {
        if any && layout == .blocked { return keep(try MemoryDesc(dims: shape, tag: dnnl_format_tag_any, dataType: act)) }
        return keep(try MemoryDesc(shape: shape, layout: shape.count == 4 ? .channelsLast : .rowMajor, dataType: act))
    }

    /// The value of `node` in descriptor `md`, reordering into a new buffer when it is stored otherwise
    /// (quantizing to `scale`, or to the node's calibrated scale, when `md` is integer).
    mutating func value(_ node: Int, as md: const_dnnl_memory_desc_t, name: String, scale: Float? = nil) throws -> Int {
        let v = values[node]!
        if dnnl_memory_desc_equal(v.md, md) != 0 { return v.buffer }
        let b = newBuffer(md)
        let dt = dataType(md)
        let dstScale = Self.isInteger(dt) ? try scale ?? self.scale(of: node, as: dt) : nil
        try convert(from: v.md, .buffer(v.buffer), srcScale: valueScale[node], to: md, .buffer(b), dstScale: dstScale,
                    name: name + " (reorder)")
        return b
    }

    /// A parameter tensor copied (or reordered) into a plan-owned buffer laid out as `md`.
    mutating func weight(_ id: ValueID, plain: MemoryDesc, as md: const_dnnl_memory_desc_t) throws -> Int {
        guard case .parameter(let name) = graph[id].op, let t = parameters[name] else {
            throw EngineError.unsupported("runtime", "weights must be parameters (node \(graph[id].name))")
        }
        let src = t.contiguous()
        // Once per plan, so not cached: the same conv shape may want other layouts or types in another plan.
        let buffer = try sharedWeights.buffer(name, md) { try ctx.reorder(src.rawPointer, from: plain.handle, to: md, key: nil) }
        weights.append(buffer)
        return weights.count - 1
    }

    mutating func vector(_ id: ValueID) throws -> Int {
        let (name, t): (String, Tensor?) = switch graph[id].op {
        case .parameter(let n), .buffer(let n): (n, parameters[n])
        default: ("?", nil)
        }
        guard let t else { throw EngineError.unsupported("runtime", "'\(name)' must be a parameter") }
        let b = try sharedWeights.buffer(name, nil) {
            let (b, c) = (AlignedBuffer(byteCount: t.byteCount), t.contiguous())
            // `c` kept alive past the copy: a copy made by `contiguous()` could otherwise be freed once its pointer is taken.
            withExtendedLifetime(c) { b.pointer.copyMemory(from: c.rawPointer, byteCount: c.byteCount) }
            return b
        }
        weights.append(b)
        return weights.count - 1
    }

    // MARK: steps

    mutating func build(_ planned: [PlannedStep]) throws {
        lastReader = [Int](repeating: -1, count: graph.nodes.count)
        for (k, s) in planned.enumerated() {
            let (nodes, residual) = s.reads
            for n in nodes { for i in graph.nodes[n].inputs { lastReader[i.index] = max(lastReader[i.index], k) } }
            if let r = residual { lastReader[r.index] = max(lastReader[r.index], k) }
        }
        for o in graph.outputs { lastReader[o.index] = Int.max }

        // The caller's NCHW input, reordered into the plan's layout (and quantized, in an INT8 plan whose
        // first reader is a convolution).
        var inputMD = try activationMD(shapes[inputNode], any: false)
        var inputScale: Float?
        if staysInteger(inputNode) {
            let type = try integerType(inputNode)
            inputMD = keep(try MemoryDesc(shape: shapes[inputNode], layout: .channelsLast, dataType: type))
            inputScale = try scale(of: inputNode, as: type)
        }
        let inputBuffer = newBuffer(inputMD)
        try convert(from: userInputMD.handle, .userInput, srcScale: nil, to: inputMD, .buffer(inputBuffer), dstScale: inputScale, name: "input")
        values[inputNode] = (inputBuffer, inputMD)
        valueScale[inputNode] = inputScale

        for (k, s) in planned.enumerated() {
            switch s.op {
            case .conv(let n, let residual, let activation):
                try conv(n, residual: residual, activation: activation, result: s.result, step: k)
            case .single(let n):
                try single(n)
            case .poolLinear(let nodes):
                try poolLinear(nodes)
            case .separable(let dw, let pw):
                try separable(dw, pw, result: s.result, step: k)
            case .resizeConv(let resize, let c):
                try resizeConv(resize, c, result: s.result, step: k)
            }
        }
    }

    mutating func conv(_ n: Int, residual: ValueID?, activation: Op?, result: Int, step: Int) throws {
        if isInt8 { return try int8Conv(n, residual: residual, activation: activation, result: result, step: step) }
        let node = graph.nodes[n]
        guard case .conv2d(let a) = node.op else { return }
        let (xs, ws, out) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index], shapes[n])
        let site = ConvolutionSite(node: n, residual: residual, activation: activation, result: result, step: step, attributes: a,
                                   input: xs, weight: ws, output: out)
        for family in KernelFamily.ranked { if let lowers = family.lowers, try lowers(&self, site) { return } }
        let hasBias = node.inputs.count == 3
        var post: [FusedPostOp] = []
        if residual != nil { post.append(.add(Tensor(zeros: []))) }
        if let activation, let p = FusedPostOp(activation: activation) { post.append(p) }
        let src = try activationMD(xs, any: true), dst = try activationMD(out, any: true)
        let biasMD = keep(try MemoryDesc(dims: [ws[0]], tag: dnnl_a))
        let attr = try post.isEmpty ? ctx.attributes : ctx.attributes(with: post)
        defer { if !post.isEmpty { dnnl_primitive_attr_destroy(attr) } }
        let p = try convolutionPrimitive(n, src: src, weightType: act, bias: hasBias ? biasMD : nil, dst: dst, attributes: attr)
        let srcMD = p.md(dnnl_query_src_md), dstMD = p.md(dnnl_query_dst_md), wMD = p.md(dnnl_query_weights_md)
        let x = try value(node.inputs[0].index, as: srcMD, name: node.name)
        let plainW = try MemoryDesc(shape: ws, layout: .rowMajor, weightsGroups: a.groups)
        descriptors.append(plainW)
        let w = try weight(node.inputs[1], plain: plainW, as: wMD)
        var output: Int
        var preCopy: (from: Int, to: Int, bytes: Int)?
        if let r = residual {
            let rv = values[r.index]!
            // Accumulate in place when the residual dies here, unless it is the input too (`x + conv(x)`): the
            // convolution still reads neighbouring pixels of what it would overwrite.
            if dnnl_memory_desc_equal(rv.md, dstMD) != 0 && lastReader[r.index] == step && rv.buffer != x {
                output = rv.buffer
            } else if dnnl_memory_desc_equal(rv.md, dstMD) != 0 {
                output = newBuffer(dstMD)
                preCopy = (rv.buffer, output, dnnl_memory_desc_get_size(dstMD))
            } else {
                output = try value(r.index, as: dstMD, name: node.name + " residual")
            }
        } else {
            output = newBuffer(dstMD)
        }
        var args: [(Int32, const_dnnl_memory_desc_t, ArgRef)] = [(DNNLArg.src, srcMD, .buffer(x)), (DNNLArg.weights, wMD, .weight(w)),
                                                                 (DNNLArg.dst, dstMD, .buffer(output))]
        if hasBias { args.append((DNNLArg.bias, biasMD, .weight(try vector(node.inputs[2])))) }
        var s = PendingStep(primitive: p, args: args, kind: .convolution, name: node.name.isEmpty ? "conv2d" : node.name)
        s.preCopy = preCopy
        pending.append(s)
        values[result] = (output, dstMD)
    }

    /// A forward-inference convolution primitive for conv node `n` with weights of `weightType` in the layout
    /// oneDNN prefers.
    mutating func convolutionPrimitive(_ n: Int, src: const_dnnl_memory_desc_t, weightType: dnnl_data_type_t,
                                       bias: const_dnnl_memory_desc_t?, dst: const_dnnl_memory_desc_t,
                                       attributes attr: dnnl_primitive_attr_t) throws -> Primitive {
        let node = graph.nodes[n]
        guard case .conv2d(let a) = node.op else { throw EngineError.invalid("runtime", "node \(n) is not a convolution") }
        let (xs, ws, out) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index], shapes[n])
        let wAny = keep(try MemoryDesc(dims: a.groups > 1 ? [a.groups, ws[0] / a.groups] + ws.dropFirst() : ws, tag: dnnl_format_tag_any,
                                       dataType: weightType))
        let what = (weightType == dnnl_s8 ? "int8 " : "") + "conv2d '\(node.name)' \(describe(xs)) ⊛ \(describe(ws))"
        return try makePrimitive(node.name.isEmpty ? "conv2d" : node.name) {
            let pd = try DNNLWindow(convolution: xs, ws, out, a).convolutionForward(ctx.engine, dnnl_forward_inference, src: src,
                                                                                   weights: wAny, bias: bias, dst: dst, attributes: attr,
                                                                                   what: what)
            if weightType == dnnl_s8 { try Self.avoidStridedGatherOverrun(pd, inChannels: ws[1], a, what: what) }
            return pd
        }
    }

    mutating func single(_ n: Int) throws {
        let node = graph.nodes[n]
        let name = node.name.isEmpty ? node.op.kindName : "\(node.name) \(node.op.kindName)"
        switch node.op {
        case .relu, .relu6:
            let v = try floatValue(node.inputs[0].index, name: name)
            let cap: Float = node.op == .relu6 ? 6 : 0
            let alg = node.op == .relu6 ? dnnl_eltwise_clip_v2 : dnnl_eltwise_relu
            let p = try makePrimitive(name) {
                var pd: dnnl_primitive_desc_t?
                try check(dnnl_eltwise_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, alg, v.md, v.md, 0, cap,
                                                                     ctx.attributes), name)
                return pd!
            }
            let out = newBuffer(v.md)
            pending.append(PendingStep(primitive: p, args: [(DNNLArg.src, v.md, .buffer(v.buffer)), (DNNLArg.dst, v.md, .buffer(out))],
                                       kind: .activation, name: name))
            values[n] = (out, v.md)
        case .maxPool2d(let a), .avgPool2d(let a):
            try pool(n, a, max: { if case .maxPool2d = node.op { true } else { false } }(), name: name)
        case .globalAvgPool:
            let s = shapes[node.inputs[0].index]
            try pool(n, Pool2dAttributes(kernel: Pair(s[2], s[3])), max: false, name: name)
        case .add:
            let a = try floatValue(node.inputs[0].index, name: name)
            let b = try value(node.inputs[1].index, as: a.md, name: name)
            let p = try makePrimitive(name) {
                var pd: dnnl_primitive_desc_t?
                try check(dnnl_binary_primitive_desc_create(&pd, ctx.engine, dnnl_binary_add, a.md, a.md, a.md, ctx.attributes), name)
                return pd!
            }
            let out = newBuffer(a.md)
            pending.append(PendingStep(primitive: p, args: [(DNNLArg.src, a.md, .buffer(a.buffer)), (DNNLArg.src1, a.md, .buffer(b)),
                                                            (DNNLArg.dst, a.md, .buffer(out))], kind: .add, name: name))
            values[n] = (out, a.md)
        case .flatten(let start):
            let inShape = shapes[node.inputs[0].index]
            guard start == 1 else { throw EngineError.unsupported("runtime", "flatten from dim \(start); only 1 is supported") }
            // Row-major order is PyTorch's flatten order; NHWC equals it when the plane is 1×1.
            let rowMajor = keep(try MemoryDesc(shape: inShape, layout: .rowMajor, dataType: act))
            let channelsLast = inShape.count == 4 ? keep(try MemoryDesc(shape: inShape, layout: .channelsLast, dataType: act)) : rowMajor
            let v = try floatValue(node.inputs[0].index, name: name)
            let buffer = (inShape.count == 4 && inShape[2] * inShape[3] == 1 && dnnl_memory_desc_equal(v.md, channelsLast) != 0)
                ? v.buffer : try value(node.inputs[0].index, as: rowMajor, name: name)
            values[n] = (buffer, keep(try MemoryDesc(shape: shapes[n], layout: .rowMajor, dataType: act)))
        case .dropout:
            values[n] = values[node.inputs[0].index]!
            valueScale[n] = valueScale[node.inputs[0].index]
        case .fakeQuantize(let q):
            try fakeQuantize(n, q, name: name)
        case .linear:
            let (xs, ws) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index])
            let src = keep(try MemoryDesc(shape: xs, layout: .rowMajor, dataType: act))
            let dst = keep(try MemoryDesc(shape: shapes[n], layout: .rowMajor))   // logits stay float32
            let wAny = keep(try MemoryDesc(dims: ws, tag: dnnl_format_tag_any, dataType: act))
            let biasMD = keep(try MemoryDesc(dims: [ws[0]], tag: dnnl_a))
            let hasBias = node.inputs.count == 3
            let p = try makePrimitive(node.name) {
                var pd: dnnl_primitive_desc_t?
                try check(dnnl_inner_product_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, src, wAny,
                                                                            hasBias ? biasMD : nil, dst, ctx.attributes), name)
                return pd!
            }
            let x = try value(node.inputs[0].index, as: src, name: name)
            let plainW = try MemoryDesc(shape: ws, layout: .rowMajor)
            descriptors.append(plainW)
            let w = try weight(node.inputs[1], plain: plainW, as: p.md(dnnl_query_weights_md))
            let out = newBuffer(dst)
            var args: [(Int32, const_dnnl_memory_desc_t, ArgRef)] = [(DNNLArg.src, src, .buffer(x)),
                                                                     (DNNLArg.weights, p.md(dnnl_query_weights_md), .weight(w)),
                                                                     (DNNLArg.dst, dst, .buffer(out))]
            if hasBias { args.append((DNNLArg.bias, biasMD, .weight(try vector(node.inputs[2])))) }
            pending.append(PendingStep(primitive: p, args: args, kind: .linear, name: name))
            values[n] = (out, dst)
        case .batchNorm2d(let a):
            let v = try floatValue(node.inputs[0].index, name: name)
            let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | dnnl_use_global_stats.rawValue
            let p = try makePrimitive(name) {
                var pd: dnnl_primitive_desc_t?
                try check(dnnl_batch_normalization_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, v.md, v.md,
                                                                                  a.epsilon, flags, ctx.attributes), name)
                return pd!
            }
            let vec = keep(try MemoryDesc(shape: [shapes[n][1]], layout: .rowMajor))
            let out = newBuffer(v.md)
            pending.append(PendingStep(primitive: p, args: [
                (DNNLArg.src, v.md, .buffer(v.buffer)), (DNNLArg.dst, v.md, .buffer(out)),
                (DNNLArg.scale, vec, .weight(try vector(node.inputs[1]))), (DNNLArg.shift, vec, .weight(try vector(node.inputs[2]))),
                (DNNLArg.mean, vec, .weight(try vector(node.inputs[3]))), (DNNLArg.variance, vec, .weight(try vector(node.inputs[4])))],
                kind: .batchNorm, name: name))
            values[n] = (out, v.md)
        case .resizeBilinear:
            let v = try floatValue(node.inputs[0].index, name: name)
            let dst = try activationMD(shapes[n], any: false)
            let p = try makePrimitive(name) {
                var pd: dnnl_primitive_desc_t?
                try check(dnnl_resampling_forward_primitive_desc_create(&pd, ctx.engine, dnnl_forward_inference, dnnl_resampling_linear,
                                                                         nil, v.md, dst, ctx.attributes), name)
                return pd!
            }
            let out = newBuffer(dst)
            pending.append(PendingStep(primitive: p, args: [(DNNLArg.src, v.md, .buffer(v.buffer)), (DNNLArg.dst, dst, .buffer(out))],
                                       kind: .resize, name: name))
            values[n] = (out, dst)
        case .conv2d:
            try conv(n, residual: nil, activation: nil, result: n, step: -1)
        case .activation(let f):
            try eltwise(n, f, name: name)
        case .binary(let op):
            try binary(n, op, name: name)
        case .softmax(let axis):
            try softmax(n, axis: axis, name: name)
        case .reduceMean(let axes, let keepDims):
            try reduceMean(n, axes: axes, keepDims: keepDims, name: name)
        case .transpose(let perm):
            try transpose(n, permutation: perm, name: name)
        case .concat(let axis):
            try concat(n, axis: axis, name: name)
        case .pad(let a):
            let sources = try ReferenceBackend.padSources(shapes[node.inputs[0].index], a)
            try hostStep(n, what: "pad", kind: .dataMovement, name: name, body: HostStep.pad(sources: sources, value: a.value))
        case .softmaxCrossEntropy, .input, .parameter, .buffer:
            throw EngineError.unsupported("runtime", "\(node.op.kindName) has no place in an inference plan (export the model without its loss)")
        }
    }

    mutating func pool(_ n: Int, _ a: Pool2dAttributes, max: Bool, name: String) throws {
        let node = graph.nodes[n]
        // Max-pooling keeps integers (and their scale); averaging runs in float32.
        let stored = values[node.inputs[0].index]!
        let integer = max && Self.isInteger(dataType(stored.md))
        let v = integer ? stored : try floatValue(node.inputs[0].index, name: name)
        let (xs, out) = (shapes[node.inputs[0].index], shapes[n])
        let dst = keep(try MemoryDesc(dims: out, tag: dnnl_format_tag_any, dataType: integer ? dataType(stored.md) : act))
        let p = try makePrimitive(name) {
            try DNNLWindow(pooling: xs, out, a).poolingForward(ctx.engine, dnnl_forward_inference, max: max, src: v.md, dst: dst,
                                                               attributes: ctx.attributes, what: name)
        }
        let dstMD = p.md(dnnl_query_dst_md)
        let buffer = newBuffer(dstMD)
        pending.append(PendingStep(primitive: p, args: [(DNNLArg.src, v.md, .buffer(v.buffer)), (DNNLArg.dst, dstMD, .buffer(buffer))],
                                   kind: .pooling, name: name))
        values[n] = (buffer, dstMD)
        if integer { valueScale[n] = valueScale[node.inputs[0].index] }
    }

    // MARK: memory plan

    mutating func finish() throws -> Compiled {
        guard let outNode = graph.outputs.first, let result = values[outNode.index] else {
            throw EngineError.invalid("runtime", "the graph has no output")
        }
        let outputShape = shapes[outNode.index]
        // The result must be row-major for the caller.
        let plainOut = keep(try MemoryDesc(shape: outputShape, layout: .rowMajor))
        let outBuffer = dnnl_memory_desc_equal(result.md, plainOut) != 0 ? result.buffer
            : try value(outNode.index, as: plainOut, name: "output")

        // Liveness by step: each buffer lives from its first to its last reference.
        var first = [Int](repeating: Int.max, count: bufferBytes.count), last = [Int](repeating: -1, count: bufferBytes.count)
        for (k, s) in pending.enumerated() {
            for case (_, _, .buffer(let b)) in s.args { first[b] = min(first[b], k); last[b] = max(last[b], k) }
            if let c = s.preCopy { first[c.from] = min(first[c.from], k); last[c.from] = max(last[c.from], k) }
            if let w = s.custom {
                for b in [w.input, w.output] + (w.residual.map { [$0] } ?? []) { first[b] = min(first[b], k); last[b] = max(last[b], k) }
            }
        }
        last[outBuffer] = pending.count
        let lifetimes = bufferBytes.indices.map { b in first[b] <= last[b] ? MemoryPlanner.Lifetime(bytes: bufferBytes[b], steps: first[b]...last[b]) : nil }
        let (offsets, arenaBytes) = MemoryPlanner.layout(lifetimes)
        let scratchBytes = pending.map { $0.custom?.kernel.workspaceBytes ?? $0.primitive?.scratchpadBytes ?? 0 }.max() ?? 0
        try BatchMemoryCheck.check(arenaBytes: arenaBytes, scratchBytes: scratchBytes, batch: shapes[inputNode].first ?? 1)

        var steps: [InferencePlan.Step] = []
        for (k, s) in pending.enumerated() {
            let alone = singleThreadedSteps.contains(k)
            if let w = s.custom {
                steps.append(InferencePlan.Step(primitive: s.primitive, args: [], kind: s.kind, name: s.name, preCopy: nil,
                                                custom: (w.kernel, offsets[w.input], offsets[w.output], w.residual.map { offsets[$0] }),
                                                singleThreaded: alone))
                continue
            }
            var all = s.args
            if let p = s.primitive, p.scratchpadBytes > 0 { all.append((DNNLArg.scratchpad, p.md(dnnl_query_scratchpad_md), .scratch)) }
            let args = all.map { slot, md, ref -> InferencePlan.Argument in
                let location: InferencePlan.Argument.Location = switch ref {
                case .buffer(let b): .arena(offsets[b])
                case .weight(let w): .weight(weights[w].pointer)
                case .scratch: .scratch
                case .userInput: .userInput
                }
                return InferencePlan.Argument(slot: slot, md: md, location: location)
            }
            steps.append(InferencePlan.Step(primitive: s.primitive, args: args, kind: s.kind, name: s.name,
                                            preCopy: s.preCopy.map { (offsets[$0.from], offsets[$0.to], $0.bytes) },
                                            singleThreaded: alone))
        }
        descriptors.append(userInputMD)
        return Compiled(steps: steps, arenaBytes: max(arenaBytes, 64), scratchBytes: max(scratchBytes, 64), weights: weights,
                        outputOffset: offsets[outBuffer], outputShape: outputShape, descriptors: descriptors, userInputMD: userInputMD.handle)
    }
}
