import CDNNL
import CPUBackend
import GraphCore

extension PlanBuilder {
    /// Whether this plan may run convolutions on `family`: fp32 NHWC plans, when `convolutions` forces the family or
    /// is `.auto` without it excluded.
    func takes(_ family: KernelFamily) -> Bool {
        act == dnnl_f32 && !isInt8 && layout == .channelsLast
            && (convolutions == .auto ? !excluded.contains(family.name) : family.forcedBy.contains(convolutions))
    }

    /// A convolution of our own (`make`: from input and weight shapes, the weight's parameter name, the
    /// weights `[K, C, kH, kW]`, the bias, and the laid-out weight buffers it takes, for the plan to keep):
    /// input, output and residual are NHWC float32 buffers of the arena; bias and ReLU (and the residual add)
    /// (and ReLU6, for the depthwise kernel) are applied by the convolution itself.
    mutating func arenaConv(_ n: Int, residual: ValueID?, result: Int, step: Int,
                            make: ([Int], [Int], String, UnsafePointer<Float>, UnsafePointer<Float>?, inout [AlignedBuffer]) throws -> any ArenaKernel) throws {
        let node = graph.nodes[n]
        let (xs, ws) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index])
        let (wName, w, bias) = try convParameters(n)
        var laidOut: [AlignedBuffer] = []
        try arenaStep(name: node.name.isEmpty ? "conv2d" : node.name, input: node.inputs[0].index, output: shapes[n], residual: residual,
                      result: result, step: step) {
            try make(xs, ws, wName, w.rawPointer.assumingMemoryBound(to: Float.self), bias, &laidOut)
        }
        weights.append(contentsOf: laidOut)
    }

    /// Convolution `n`'s weight parameter (its name, and the tensor, contiguous) and its bias, which the plan keeps.
    mutating func convParameters(_ n: Int) throws -> (name: String, weight: Tensor, bias: UnsafePointer<Float>?) {
        let node = graph.nodes[n]
        guard case .parameter(let wName) = graph[node.inputs[1]].op, let w = parameters[wName] else {
            throw EngineError.unsupported("runtime", "weights must be parameters (node \(node.name))")
        }
        var bias: UnsafePointer<Float>?
        if node.inputs.count == 3 { bias = UnsafePointer(weights[try vector(node.inputs[2])].pointer.assumingMemoryBound(to: Float.self)) }
        return (wName, w.contiguous(), bias)
    }

    /// A step of our own (`make`, created for the step's thread count) from graph value `input` to an `output`-shaped
    /// value standing for node `result`, NHWC float32 both, with the fused add of `residual` placed here.
    mutating func arenaStep(name: String, input: Int, output out: [Int], residual: ValueID?, result: Int, step: Int,
                            make: () throws -> any ArenaKernel) throws {
        let nhwc = try activationMD(shapes[input], any: false), dstMD = try activationMD(out, any: false)
        let x = try value(input, as: nhwc, name: name)
        let kernel = try forTheNextStep(make)
        var output: Int, residualBuffer: Int?
        if let r = residual {
            let rv = try value(r.index, as: dstMD, name: name + " residual")
            // Accumulate in place when the residual dies here: each output element reads its own residual first;
            // but never into the input (`x + conv(x)`), whose neighbouring pixels the convolution still reads.
            if rv != x && rv == values[r.index]!.buffer && lastReader[r.index] == step {
                output = rv
            } else if rv != x && rv != values[r.index]!.buffer {
                output = rv   // a converted copy made for this step alone
            } else {
                output = newBuffer(dstMD)
            }
            residualBuffer = rv
        } else {
            output = newBuffer(dstMD)
        }
        var s = PendingStep(primitive: nil, args: [], kind: .convolution, name: name)
        s.custom = (kernel, x, output, residualBuffer)
        pending.append(s)
        values[result] = (output, dstMD)
    }
}
