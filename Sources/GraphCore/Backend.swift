/// The narrow set of kernels a device provides; every model op lowers to these.
///
/// Tensors may arrive in either `Layout`; a backend returns whatever layout it prefers (the CPU backend
/// keeps 4-D activations channels-last). Gradients come back in the shape of what they differentiate.
/// Each backend passes the same op tests against `ReferenceBackend`.
public protocol Backend: Sendable {
    var name: String { get }

    /// `[N, C, H, W] ⊛ [K, C/g, kH, kW] (+ [K])` → `[N, K, Ho, Wo]`.
    func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ a: Conv2dAttributes) throws -> Tensor
    /// Gradients of conv2d; the input's only when `needInput` (the first layer's input needs none).
    func conv2dBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool, _ a: Conv2dAttributes,
                        needInput: Bool) throws -> (input: Tensor?, weight: Tensor, bias: Tensor?)

    /// Normalises by the batch statistics; returns them too (mean and biased variance per channel).
    func batchNormTraining(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) throws
        -> (output: Tensor, mean: Tensor, variance: Tensor)
    func batchNormInference(_ x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                            epsilon: Float) throws -> Tensor
    func batchNormBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, mean: Tensor, variance: Tensor,
                           epsilon: Float) throws -> (input: Tensor, weight: Tensor, bias: Tensor)

    /// max(x, 0), or min(max(x, 0), cap) when `cap` is given (ReLU6).
    func relu(_ x: Tensor, cap: Float?) throws -> Tensor
    /// gradOut where 0 < output < cap, else 0.
    func reluBackward(_ gradOut: Tensor, output: Tensor, cap: Float?) throws -> Tensor

    func maxPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor
    /// Routes each output gradient to the first maximum of its window.
    func maxPool2dBackward(_ gradOut: Tensor, x: Tensor, _ a: Pool2dAttributes) throws -> Tensor
    func avgPool2d(_ x: Tensor, _ a: Pool2dAttributes) throws -> Tensor
    func avgPool2dBackward(_ gradOut: Tensor, inputShape: [Int], _ a: Pool2dAttributes) throws -> Tensor

    /// `[N, in] · [out, in]ᵀ (+ [out])` → `[N, out]`.
    func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor
    func linearBackward(_ gradOut: Tensor, x: Tensor, weight: Tensor, hasBias: Bool) throws
        -> (input: Tensor, weight: Tensor, bias: Tensor?)

    /// Element-wise a + b (same shapes), and a · b (dropout masks).
    func add(_ a: Tensor, _ b: Tensor) throws -> Tensor
    func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor

    func resizeBilinear(_ x: Tensor, height: Int, width: Int) throws -> Tensor
    func resizeBilinearBackward(_ gradOut: Tensor, inputShape: [Int]) throws -> Tensor

    // The ops of other model families (`Backend+HostDefaults.swift` runs the reference's loops on host memory for a
    // backend without its own kernels). Results may come back in any layout; gradients have their input's shape.

    /// a ∘ b with NumPy broadcasting.
    func binary(_ op: BinaryOperator, _ a: Tensor, _ b: Tensor) throws -> Tensor
    /// The gradients of a ∘ b, each summed over the axes its operand was broadcast along.
    func binaryBackward(_ op: BinaryOperator, _ gradOut: Tensor, a: Tensor, b: Tensor) throws -> (a: Tensor, b: Tensor)
    func activation(_ x: Tensor, _ f: Activation) throws -> Tensor
    /// gradOut · f′(x).
    func activationBackward(_ gradOut: Tensor, x: Tensor, _ f: Activation) throws -> Tensor
    func softmax(_ x: Tensor, axis: Int) throws -> Tensor
    /// From the forward's output y: y · (gradOut − Σ_axis gradOut · y).
    func softmaxBackward(_ gradOut: Tensor, output: Tensor, axis: Int) throws -> Tensor
    /// Output dim i is input dim `permutation[i]` (its own backward, by the inverse permutation).
    func transpose(_ x: Tensor, permutation: [Int]) throws -> Tensor
    func pad(_ x: Tensor, _ a: PadAttributes) throws -> Tensor
    func padBackward(_ gradOut: Tensor, inputShape: [Int], _ a: PadAttributes) throws -> Tensor
    func concat(_ xs: [Tensor], axis: Int) throws -> Tensor
    func concatBackward(_ gradOut: Tensor, inputShapes: [[Int]], axis: Int) throws -> [Tensor]
    func reduceMean(_ x: Tensor, axes: [Int], keepDims: Bool) throws -> Tensor
    func reduceMeanBackward(_ gradOut: Tensor, inputShape: [Int], axes: [Int], keepDims: Bool) throws -> Tensor

    // What the training loop does besides the model's ops (`DeviceOperations.swift` has host defaults).

    /// Runs `body` in the float mode the device's kernels expect (the CPU flushes denormals).
    func withFloatMode<R>(_ body: () throws -> R) rethrows -> R
    func fakeQuantize(_ x: Tensor, _ q: QuantizationAttributes) throws -> Tensor
    func fakeQuantizeBackward(_ gradOut: Tensor, x: Tensor, _ q: QuantizationAttributes) throws -> Tensor
    func momentumUpdate(_ running: Tensor, batch: Tensor, momentum: Float, scale: Float) throws -> Tensor
    func dropoutMask(like x: Tensor, probability p: Float, rng: inout SeededRandom) throws -> Tensor
    func adamStep(_ parameter: inout Tensor, gradient: Tensor, firstMoment m: inout Tensor, secondMoment v: inout Tensor,
                  _ update: AdamUpdate) throws -> Bool
}

extension Backend {
    /// Global average pooling is average pooling over the whole plane.
    public func globalAvgPool(_ x: Tensor) throws -> Tensor {
        try avgPool2d(x, Pool2dAttributes(kernel: Pair(x.shape[2], x.shape[3])))
    }
}
