import GraphCore
/// A step the runtime computes with its own code on a plan's buffers, instead of one oneDNN primitive: Winograd
/// (`WinogradConv3x3`), the weight-streaming, depthwise and separable kernels (`StreamingConv`, `DepthwiseConv3x3`,
/// `SeparableConv`) and the folded classifier head (`GlobalPoolLinear`). Inputs and outputs are float32 (NHWC for maps);
/// a convolution's bias, optional residual add and activation are fused.
///
/// A kernel is immutable once made and may run from many threads at once: each execution context of a plan binds its
/// own workspace (`bind(workspace:)`) and passes it to every call it makes.
package protocol ArenaKernel: AnyObject, Sendable {
    /// Bytes of scratch memory a call needs (a plan's scratchpad, shared by its steps).
    var workspaceBytes: Int { get }
    /// What plans and profiles report for the step.
    var implementation: String { get }
    /// What one execution context keeps for this kernel: `workspace` (`workspaceBytes`, 64-byte aligned, outliving the
    /// calls) and whatever the kernel binds into it once rather than per call (Winograd: its matmul's memories and streams).
    func bind(workspace: UnsafeMutableRawPointer) throws -> KernelWorkspace
    /// A convolution: `output = act(conv(input) + bias + residual)`; `residual` (NHWC like the output) may be `output`
    /// itself. Other kernels take no residual. Calls sharing one `workspace` must not overlap.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
             workspace: KernelWorkspace) throws
}

/// One execution context's scratch memory for one kernel.
package struct KernelWorkspace: @unchecked Sendable {
    package let pointer: UnsafeMutableRawPointer
    /// What the kernel bound into `pointer` (nil for kernels that need only the pointer).
    package let bound: AnyObject?

    package init(pointer: UnsafeMutableRawPointer, bound: AnyObject? = nil) { (self.pointer, self.bound) = (pointer, bound) }
}

extension ArenaKernel {
    package func bind(workspace: UnsafeMutableRawPointer) throws -> KernelWorkspace { KernelWorkspace(pointer: workspace) }
}

extension WinogradConv3x3: ArenaKernel {
    package var implementation: String { "\(variant.kernelName)+\(productsImplementation)" }

    /// What computed the products: `matmul:` and oneDNN's implementation, or `streaming_conv:avx2` (ours).
    package var productsImplementation: String { matmul.map { "matmul:\($0.implementation)" } ?? "\(StreamingConv.kernelName):\(products)" }
}

extension StreamingConv: ArenaKernel {}
