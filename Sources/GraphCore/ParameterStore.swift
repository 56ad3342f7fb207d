/// Named tensors of a model: trainable parameters and non-trainable buffers, in declaration order
/// (the order of PyTorch's `state_dict`, which checkpoints and ONNX initializers keep).
public struct ParameterStore: Sendable {
    public private(set) var names: [String] = []
    public private(set) var trainable: Set<String> = []
    private var tensors: [String: Tensor] = [:]

    public init() {}

    public var trainableNames: [String] { names.filter { trainable.contains($0) } }
    public var bufferNames: [String] { names.filter { !trainable.contains($0) } }

    public subscript(name: String) -> Tensor? { tensors[name] }

    public mutating func declare(_ name: String, _ value: Tensor, trainable isTrainable: Bool) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = value
        if isTrainable { trainable.insert(name) } else { trainable.remove(name) }
    }

    /// Replaces the value of a declared tensor; the shape must stay the same.
    public mutating func set(_ name: String, _ value: Tensor) throws {
        guard let old = tensors[name] else { throw EngineError.invalid("parameters", "no tensor named '\(name)'") }
        guard old.shape == value.shape else {
            throw EngineError.shape("parameters", "'\(name)' has shape \(describe(old.shape)), new value \(describe(value.shape))")
        }
        tensors[name] = value
    }

    /// Mutates a tensor's elements in place: no copy when nothing else holds the tensor (drop forward
    /// passes that reference parameters before an optimizer step).
    public mutating func withMutableScalars<R>(_ name: String, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        guard tensors[name] != nil else { throw EngineError.invalid("parameters", "no tensor named '\(name)'") }
        return try tensors[name]!.withUnsafeMutableBufferPointer(body)
    }

    /// Mutates a tensor in place (a backend's update op): no copy when nothing else holds it.
    public mutating func withMutableTensor<R>(_ name: String, _ body: (inout Tensor) throws -> R) throws -> R {
        guard tensors[name] != nil else { throw EngineError.invalid("parameters", "no tensor named '\(name)'") }
        return try body(&tensors[name]!)
    }

    /// Number of scalars in trainable parameters (PyTorch's `sum(p.numel() for p in model.parameters())`).
    public var trainableCount: Int { trainableNames.reduce(0) { $0 + (tensors[$1]?.count ?? 0) } }
}
