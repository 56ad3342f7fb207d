import GraphCore
/// A step the runtime computes with its own code on a plan's buffers, instead of one oneDNN primitive: Winograd
/// (`WinogradConv3x3`), the weight-streaming and depthwise kernels (`StreamingConv`, `DepthwiseConv3x3`) and the
/// folded classifier head (`GlobalPoolLinear`). Inputs and outputs are float32 (NHWC for maps); a convolution's
/// bias, optional residual add and activation are fused.
package protocol ArenaKernel: AnyObject {
    /// Bytes of scratch memory a call needs (a plan's scratchpad, shared by its steps).
    var workspaceBytes: Int { get }
    /// What plans and profiles report for the step.
    var implementation: String { get }
    /// Points the call's scratch buffers into `workspace` (`workspaceBytes`, 64-byte aligned), which must outlive the calls.
    func bind(workspace: UnsafeMutableRawPointer) throws
    /// A convolution: `output = act(conv(input) + bias + residual)`; `residual` (NHWC like the output) may be `output`
    /// itself. Other kernels take no residual.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?) throws
}

extension WinogradConv3x3: ArenaKernel {
    package var implementation: String { "\(variant.kernelName)+matmul:\(matmul.implementation)" }
}

extension StreamingConv: ArenaKernel {}
