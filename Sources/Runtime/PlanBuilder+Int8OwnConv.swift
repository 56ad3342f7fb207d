import CDNNL
import CPUBackend
import GraphCore

extension PlanBuilder {
    /// Whether INT8 plans run some convolutions on kernels of our own here: where the CPU lacks VNNI. Without it
    /// oneDNN's int8 kernels ran PneumoNet's depthwise and one-channel convolutions at a fraction of a core; with AVX-512
    /// VNNI its kernels were faster than ours (`bench/README.md`, "INT8 kernels of our own").
    static var ownInt8Kernels: Bool { !CPUDevice.hasVNNI }

    /// Whether an INT8 plan runs convolution `n` (`a`: input `xs`, weights `ws`) on a kernel of our own
    /// (`ownInt8Kernels`): the depthwise 3×3 (`DepthwiseConv3x3Int8`) or the one-channel image's 3×3
    /// (`ImageConv3x3Int8`), without a residual, with ReLU, ReLU6 or no activation.
    static func ownsInt8Conv(_ xs: [Int], _ ws: [Int], _ a: Conv2dAttributes, residual: ValueID?, activation: Op?) -> Bool {
        ownInt8Kernels && residual == nil && (activation == nil || activation == .relu || activation == .relu6)
            && (DepthwiseConv3x3Int8.applies(input: xs, weight: ws, a) || ImageConv3x3Int8.applies(input: xs, weight: ws, a))
    }

    /// An INT8 plan's convolution `n` on our own kernel (`ownsInt8Conv`): from `input` (the buffer of its integer
    /// source, of type `source` and step `sourceScale`) to a new buffer `output` (integer with step `outputScale`, or
    /// float32), with the plan's weight integers, scales and (corrected) bias, and ReLU or ReLU6 fused.
    mutating func int8OwnConv(_ n: Int, input x: Int, source: dnnl_data_type_t, sourceScale: Float, output dstMD: const_dnnl_memory_desc_t,
                             outputScale: Float?, activation: Op?, result: Int) throws {
        let node = graph.nodes[n]
        guard case .conv2d(let a) = node.op else { return }
        let xs = shapes[node.inputs[0].index]
        let (_, integers, weightScales, error) = try integerWeights(node.inputs[1])
        var bias = try correctedBias(n, weightError: error)
        if bias == nil && node.inputs.count == 3 {
            guard case .parameter(let name) = graph[node.inputs[2]].op, let b = parameters[name] else {
                throw EngineError.unsupported("runtime", "a convolution's bias must be a parameter (node \(node.name))")
            }
            bias = b.contiguous().scalars
        }
        let storage: (dnnl_data_type_t) -> Int8Storage = { $0 == dnnl_u8 ? .u8 : $0 == dnnl_s8 ? .s8 : .f32 }
        let (scales, outputType) = (weightScales.map { sourceScale * $0 }, storage(dataType(dstMD)))
        let ws = shapes[node.inputs[1].index]
        let kernel: any ArenaKernel = try forTheNextStep {
            if DepthwiseConv3x3Int8.applies(input: xs, weight: ws, a) {
                return try DepthwiseConv3x3Int8(batch: xs[0], height: xs[2], width: xs[3], channels: xs[1], stride: a.stride.h,
                                                integers: integers, scales: scales, bias: bias, relu: activation != nil,
                                                relu6: activation == .relu6, input: storage(source), output: outputType, outputScale: outputScale)
            }
            return try ImageConv3x3Int8(batch: xs[0], height: xs[2], width: xs[3], outChannels: ws[0], stride: a.stride.h,
                                        integers: integers, scales: scales, bias: bias, relu: activation != nil,
                                        relu6: activation == .relu6, input: storage(source), output: outputType, outputScale: outputScale)
        }
        let output = newBuffer(dstMD)
        var s = PendingStep(primitive: nil, args: [], kind: .convolution, name: node.name.isEmpty ? "conv2d" : node.name)
        s.custom = (kernel, x, output, nil)
        pending.append(s)
        values[result] = (output, dstMD)
        valueScale[result] = outputScale
    }
}
