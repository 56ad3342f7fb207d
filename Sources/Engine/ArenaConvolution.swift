/// A convolution the runtime computes with its own code on a plan's buffers, instead of one oneDNN primitive:
/// Winograd (`WinogradConv3x3`) and the weight-streaming kernel (`StreamingConv`). Inputs and outputs are NHWC
/// float32; bias, an optional residual add and ReLU are fused.
package protocol ArenaConvolution: AnyObject {
    /// Bytes of scratch memory a call needs (a plan's scratchpad, shared by its steps).
    var workspaceBytes: Int { get }
    /// What plans and profiles report for the step.
    var implementation: String { get }
    /// Points the call's scratch buffers into `workspace` (`workspaceBytes`, 64-byte aligned), which must outlive the calls.
    func bind(workspace: UnsafeMutableRawPointer) throws
    /// `output = relu?(conv(input) + bias + residual)`; `residual` (NHWC like the output) may be `output` itself.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) throws
}

extension WinogradConv3x3: ArenaConvolution {
    package var implementation: String { "\(variant.kernelName)+matmul:\(matmul.implementation)" }
}

extension StreamingConv: ArenaConvolution {}
