import CDNNL
import CPUBackend
import GraphCore

extension PlanBuilder {
    /// A classifier head, `linear(flatten(globalAvgPool(x)))` with dropouts between (identities here): in an fp32
    /// plan whose `x` is NHWC, one step of our own (`GlobalPoolLinear`) instead of a pooling step and an inner
    /// product. Elsewhere each node is its own step.
    mutating func poolLinear(_ nodes: [Int]) throws {
        let (pool, linear) = (nodes.first!, nodes.last!)
        let input = graph.nodes[pool].inputs[0].index
        let (xs, ws) = (shapes[input], shapes[graph.nodes[linear].inputs[1].index])
        guard act == dnnl_f32, !isInt8, layout == .channelsLast, xs.count == 4, ws.count == 2, ws[1] == xs[1],
              case .parameter = graph[graph.nodes[linear].inputs[1]].op else {
            for n in nodes { try single(n) }
            return
        }
        let name = graph.nodes[linear].name.isEmpty ? "linear" : graph.nodes[linear].name
        let x = try value(input, as: try activationMD(xs, any: false), name: name)
        let dst = keep(try MemoryDesc(shape: shapes[linear], layout: .rowMajor))
        let weight = weights[try vector(graph.nodes[linear].inputs[1])]   // [K, C] row-major, as stored
        var bias: UnsafePointer<Float>?
        if graph.nodes[linear].inputs.count == 3 {
            bias = UnsafePointer(weights[try vector(graph.nodes[linear].inputs[2])].pointer.assumingMemoryBound(to: Float.self))
        }
        let head = try GlobalPoolLinear(batch: xs[0], plane: xs[2] * xs[3], channels: xs[1], classes: ws[0],
                                        weight: UnsafePointer(weight.pointer.assumingMemoryBound(to: Float.self)), bias: bias)
        let out = newBuffer(dst)
        var s = PendingStep(primitive: nil, args: [], kind: .linear, name: name)
        s.custom = (head, x, out, nil)
        pending.append(s)
        values[linear] = (out, dst)
    }
}
