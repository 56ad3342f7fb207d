/// Parameter-free layers, as values so that they can sit in a `Sequential`.
public struct ReLU: Layer {
    public init() {}
    public func callAsFunction(_ x: Value) throws -> Value { try x.relu() }
}

public struct ReLU6: Layer {
    public init() {}
    public func callAsFunction(_ x: Value) throws -> Value { try x.relu6() }
}

public struct MaxPool2d: Layer {
    public let attributes: Pool2dAttributes
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        attributes = Pool2dAttributes(kernel: Pair(kernel), stride: stride.map { Pair($0) }, padding: Pair(padding))
    }
    public func callAsFunction(_ x: Value) throws -> Value { try x.maxPool2d(attributes) }
}

public struct AvgPool2d: Layer {
    public let attributes: Pool2dAttributes
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        attributes = Pool2dAttributes(kernel: Pair(kernel), stride: stride.map { Pair($0) }, padding: Pair(padding))
    }
    public func callAsFunction(_ x: Value) throws -> Value { try x.avgPool2d(attributes) }
}

/// `nn.AdaptiveAvgPool2d(1)`.
public struct GlobalAvgPool: Layer {
    public init() {}
    public func callAsFunction(_ x: Value) throws -> Value { try x.globalAvgPool() }
}

public struct Flatten: Layer {
    public init() {}
    public func callAsFunction(_ x: Value) throws -> Value { try x.flatten(startDim: 1) }
}

public struct Dropout: Layer {
    public let p: Float
    public init(_ p: Float) { self.p = p }
    public func callAsFunction(_ x: Value) throws -> Value { try x.dropout(p: p) }
}
