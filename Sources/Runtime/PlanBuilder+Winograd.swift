import CDNNL
import Engine
import Foundation
import Synchronization

/// How fp32 plans compute 3×3, stride-1, pad-1 convolutions (channel counts multiples of 16). Other
/// convolutions, and BF16 and INT8 plans, always run oneDNN's direct convolution.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable, Codable {
    /// oneDNN's direct convolution everywhere (the switch that turns Winograd off).
    case direct
    /// Winograd F(2×2, 3×3) (`WinogradConv3x3`: Swift transforms + oneDNN batched matmul) wherever it applies.
    case winograd
    /// Per shape, time direct against both Winograd schedules when compiling (same thread count, alternating
    /// calls, caches evicted before each as weights are in a whole model); keep Winograd only when it is at
    /// least 20% faster. Decisions are kept per process by shape (`PNEUMO_WINOGRAD_VERBOSE=1` prints them).
    case auto

    public init(option value: String) throws {
        guard let a = ConvolutionAlgorithm(rawValue: value) else {
            throw EngineError.invalid("runtime", "convolutions must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
        }
        self = a
    }
}

/// The per-shape decisions of `ConvolutionAlgorithm.auto`, with the times they rest on.
enum WinogradChoice {
    struct Decision: Sendable {
        let schedule: WinogradConv3x3.Schedule?
        let reason: String
    }

    private static let decisions = Mutex<[String: Decision]>([:])

    /// Winograd must beat direct by this factor to be chosen (timing noise on shared machines is 5–10%; at 1.1 batch-1 plans at 64 px took shapes that were no faster in the whole model).
    static let margin = 1.2

    static func decide(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int) throws -> Decision {
        let threads = Int(omp_get_max_threads())
        let key = "\(batch)|\(channels)|\(outChannels)|\(height)|\(width)|\(threads)"
        if let d = decisions.withLock({ $0[key] }) { return d }
        let t = try WinogradConvBenchmark.race(batch: batch, channels: channels, outChannels: outChannels, height: height, width: width,
                                               schedules: [.chunked(tiles: nil), .whole])
        let (chunked, whole) = (t.winograd[0], t.winograd[1])
        let schedule: WinogradConv3x3.Schedule? = min(chunked, whole) * margin <= t.direct ? (chunked <= whole ? .chunked(tiles: nil) : .whole) : nil
        let d = Decision(schedule: schedule, reason: String(format: "direct %.3f ms, winograd chunked %.3f ms, whole %.3f ms",
                                                              t.direct, chunked, whole))
        decisions.withLock { $0[key] = d }
        if ProcessInfo.processInfo.environment["PNEUMO_WINOGRAD_VERBOSE"] != nil {
            FileHandle.standardError.write(Data("winograd auto N\(batch) C\(channels) K\(outChannels) \(height)×\(width), \(threads) threads: \(d.reason) → \(schedule.map { "\($0)" } ?? "direct")\n".utf8))
        }
        return d
    }
}

extension PlanBuilder {
    /// The Winograd schedule for this fp32 convolution, or nil for the direct one.
    func winogradSchedule(_ xs: [Int], _ ws: [Int], _ a: Conv2dAttributes) throws -> WinogradConv3x3.Schedule? {
        guard convolutions != .direct, act == dnnl_f32, !isInt8, layout == .channelsLast,
              WinogradConv3x3.applies(input: xs, weight: ws, a) else { return nil }
        if convolutions == .winograd { return winogradForced }
        return try WinogradChoice.decide(batch: xs[0], channels: xs[1], outChannels: ws[0], height: xs[2], width: xs[3]).schedule
    }

    /// A Winograd step: input, output and residual are NHWC float32 buffers of the arena; bias and ReLU
    /// (and the residual add) are applied by its output transform; its chunk buffers live in the plan's
    /// scratchpad (sized to the largest step's need).
    mutating func winogradConv(_ n: Int, residual: ValueID?, relu: Bool, result: Int, step: Int,
                               schedule: WinogradConv3x3.Schedule) throws {
        let node = graph.nodes[n]
        let (xs, ws, out) = (shapes[node.inputs[0].index], shapes[node.inputs[1].index], shapes[n])
        let nhwc = try activationMD(xs, any: false), dstMD = try activationMD(out, any: false)
        let x = try value(node.inputs[0].index, as: nhwc, name: node.name)
        guard case .parameter(let wName) = graph[node.inputs[1]].op, let w = parameters[wName] else {
            throw EngineError.unsupported("runtime", "weights must be parameters (node \(node.name))")
        }
        let wc = w.contiguous()
        var biasPointer: UnsafePointer<Float>?
        if node.inputs.count == 3 { biasPointer = UnsafePointer(weights[try vector(node.inputs[2])].pointer.assumingMemoryBound(to: Float.self)) }
        var laidOut: [AlignedBuffer] = []
        let cache = sharedWeights
        let conv = try WinogradConv3x3(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: ws[0],
                                       weight: wc.rawPointer.assumingMemoryBound(to: Float.self), bias: biasPointer, relu: relu,
                                       schedule: schedule, ctx: ctx) { md, make in
            let b = try cache.buffer(wName + "|winograd", md, make: make)
            laidOut.append(b)
            return b
        }
        weights.append(contentsOf: laidOut)
        var output: Int, residualBuffer: Int?
        if let r = residual {
            let rv = try value(r.index, as: dstMD, name: node.name + " residual")
            // Accumulate in place when the residual dies here: each output element reads its own residual first.
            if rv == values[r.index]!.buffer && lastReader[r.index] == step {
                output = rv
            } else if rv != values[r.index]!.buffer {
                output = rv   // a converted copy made for this step alone
            } else {
                output = newBuffer(dstMD)
            }
            residualBuffer = rv
        } else {
            output = newBuffer(dstMD)
        }
        var s = PendingStep(primitive: conv.matmul, args: [], kind: .convolution, name: node.name.isEmpty ? "conv2d" : node.name)
        s.winograd = (conv, x, output, residualBuffer)
        pending.append(s)
        values[result] = (output, dstMD)
    }
}
