/// A backend without kernels of its own for these ops runs `ReferenceBackend`'s loops on its tensors' host memory
/// (right for any backend whose tensors live there, as `DeviceOperations.swift`'s defaults are). The CPU backend
/// overrides the activations and broadcast arithmetic with oneDNN; a device with its own memory overrides them all.
extension Backend {
    public func binary(_ op: BinaryOperator, _ a: Tensor, _ b: Tensor) throws -> Tensor { try ReferenceBackend().binary(op, a, b) }
    public func binaryBackward(_ op: BinaryOperator, _ gradOut: Tensor, a: Tensor, b: Tensor) throws -> (a: Tensor, b: Tensor) {
        try ReferenceBackend().binaryBackward(op, gradOut, a: a, b: b)
    }
    public func activation(_ x: Tensor, _ f: Activation) throws -> Tensor { try ReferenceBackend().activation(x, f) }
    public func activationBackward(_ gradOut: Tensor, x: Tensor, _ f: Activation) throws -> Tensor {
        try ReferenceBackend().activationBackward(gradOut, x: x, f)
    }
    public func softmax(_ x: Tensor, axis: Int) throws -> Tensor { try ReferenceBackend().softmax(x, axis: axis) }
    public func softmaxBackward(_ gradOut: Tensor, output: Tensor, axis: Int) throws -> Tensor {
        try ReferenceBackend().softmaxBackward(gradOut, output: output, axis: axis)
    }
    public func transpose(_ x: Tensor, permutation: [Int]) throws -> Tensor { try ReferenceBackend().transpose(x, permutation: permutation) }
    public func pad(_ x: Tensor, _ a: PadAttributes) throws -> Tensor { try ReferenceBackend().pad(x, a) }
    public func padBackward(_ gradOut: Tensor, inputShape: [Int], _ a: PadAttributes) throws -> Tensor {
        try ReferenceBackend().padBackward(gradOut, inputShape: inputShape, a)
    }
    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor { try ReferenceBackend().concat(xs, axis: axis) }
    public func concatBackward(_ gradOut: Tensor, inputShapes: [[Int]], axis: Int) throws -> [Tensor] {
        try ReferenceBackend().concatBackward(gradOut, inputShapes: inputShapes, axis: axis)
    }
    public func reduceMean(_ x: Tensor, axes: [Int], keepDims: Bool) throws -> Tensor {
        try ReferenceBackend().reduceMean(x, axes: axes, keepDims: keepDims)
    }
    public func reduceMeanBackward(_ gradOut: Tensor, inputShape: [Int], axes: [Int], keepDims: Bool) throws -> Tensor {
        try ReferenceBackend().reduceMeanBackward(gradOut, inputShape: inputShape, axes: axes, keepDims: keepDims)
    }
}
