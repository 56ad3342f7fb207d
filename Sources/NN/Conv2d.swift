/// Configuration of a 2-D convolution (PyTorch's `nn.Conv2d` arguments and defaults).
public struct Conv2dConfig: Sendable, Hashable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Pair
    public var stride: Pair = Pair(1)
    public var padding: Pair = Pair(0)
    public var dilation: Pair = Pair(1)
    public var groups: Int = 1
    public var bias: Bool = true
    public var initializer: Initializer = .pytorchDefaultWeight

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, initializer: Initializer = .pytorchDefaultWeight) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = Pair(kernel)
        self.stride = Pair(stride); self.padding = Pair(padding); self.dilation = Pair(dilation)
        self.groups = groups; self.bias = bias; self.initializer = initializer
    }

    public var attributes: Conv2dAttributes { Conv2dAttributes(stride: stride, padding: padding, dilation: dilation, groups: groups) }
}

/// `nn.Conv2d`: weight `[out, in/groups, kH, kW]`, optional bias `[out]`.
public struct Conv2d: Layer {
    public let config: Conv2dConfig

    /// Throws when the channel counts are not divisible by `groups` (checked at construction, not at run time).
    public init(_ config: Conv2dConfig) throws {
        guard config.groups >= 1, config.inChannels % config.groups == 0, config.outChannels % config.groups == 0 else {
            throw EngineError.invalid("Conv2d", "groups \(config.groups) must divide in \(config.inChannels) and out \(config.outChannels) channels")
        }
        guard config.inChannels > 0, config.outChannels > 0, config.kernel.h > 0, config.kernel.w > 0 else {
            throw EngineError.invalid("Conv2d", "channels and kernel must be positive")
        }
        self.config = config
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        let c = config, b = x.graphBuilder
        let w = try b.parameter("weight", shape: [c.outChannels, c.inChannels / c.groups, c.kernel.h, c.kernel.w], initializer: c.initializer)
        let fanIn = c.inChannels / c.groups * c.kernel.h * c.kernel.w
        let bias = c.bias ? try b.parameter("bias", shape: [c.outChannels], initializer: .pytorchDefaultBias(fanIn: fanIn)) : nil
        return try x.conv2d(weight: w, bias: bias, c.attributes)
    }
}

/// `nn.BatchNorm2d`: affine weight/bias and running statistics (PyTorch's buffers, `num_batches_tracked` aside).
public struct BatchNorm2d: Layer {
    public let channels: Int
    public var attributes: BatchNormAttributes

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        attributes = BatchNormAttributes(epsilon: epsilon, momentum: momentum)
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        let b = x.graphBuilder, s = [channels]
        return try x.batchNorm2d(weight: try b.parameter("weight", shape: s, initializer: .ones),
                                 bias: try b.parameter("bias", shape: s, initializer: .zeros),
                                 runningMean: try b.buffer("running_mean", shape: s, initializer: .zeros),
                                 runningVar: try b.buffer("running_var", shape: s, initializer: .ones), attributes)
    }
}

/// `nn.Linear`: weight `[out, in]`, optional bias `[out]`.
public struct Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let bias: Bool

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.bias = bias
    }

    public func callAsFunction(_ x: Value) throws -> Value {
        let b = x.graphBuilder
        let w = try b.parameter("weight", shape: [outFeatures, inFeatures], initializer: .pytorchDefaultWeight)
        let bv = bias ? try b.parameter("bias", shape: [outFeatures], initializer: .pytorchDefaultBias(fanIn: inFeatures)) : nil
        return try x.linear(weight: w, bias: bv)
    }
}
