import GraphCore

/// An exponential moving average of a model's trainable parameters (Polyak averaging, as timm's `ModelEmaV2`
/// and TensorFlow's `ExponentialMovingAverage`): after each optimizer step t,
///
///     shadow ← d_t·shadow + (1 − d_t)·θ,   d_t = min(decay, (1 + t)/(10 + t))
///
/// (the warm-up keeps the random initialisation from dominating the first steps). Buffers (batch-norm
/// running statistics) are copied, not averaged: they already are running averages. The averaged weights
/// sit in a flatter region of the loss than the last iterate, which is why they generalise better.
public struct WeightAverage: Sendable {
    public let decay: Float
    public private(set) var shadow: ParameterStore
    public private(set) var step: Int

    public init(decay: Float, parameters: ParameterStore, step: Int = 0) throws {
        guard decay > 0, decay < 1 else { throw EngineError.invalid("ema", "decay must be in (0, 1), got \(decay)") }
        self.decay = decay; shadow = parameters; self.step = step
    }

    public mutating func update(from parameters: ParameterStore) throws {
        let d = min(decay, Float(1 + step) / Float(10 + step))
        for name in parameters.trainableNames {
            let current = parameters[name]!
            try current.withUnsafeBufferPointer { theta in
                try shadow.withMutableScalars(name) { s in
                    for i in 0..<s.count { s[i] = d * s[i] + (1 - d) * theta[i] }
                }
            }
        }
        for name in parameters.bufferNames { try shadow.set(name, parameters[name]!) }
        step += 1
    }

    /// The state a checkpoint stores to resume: the averaged parameters (the buffers are the model's own).
    public var trainableTensors: [(name: String, tensor: Tensor)] { shadow.trainableNames.map { ($0, shadow[$0]!) } }

    /// Restores the averaged parameters saved by `trainableTensors`.
    public mutating func restore(step: Int, tensors: [String: Tensor], buffersFrom parameters: ParameterStore) throws {
        for name in shadow.trainableNames {
            guard let t = tensors[name] else { throw EngineError.invalid("ema", "the saved average lacks '\(name)'") }
            try shadow.set(name, t)
        }
        for name in parameters.bufferNames { try shadow.set(name, parameters[name]!) }
        self.step = step
    }
}
