@_exported import GraphCore

/// A model component: recording its forward into the graph of `x`. Layers are small value types (a
/// config and a name); their parameters are created, under the layer's name as scope, when first
/// called, so a model's code is the only description of its structure.
public protocol Layer {
    func callAsFunction(_ x: Value) throws -> Value
}

/// A named sequence of layers; children are named by their position (`0`, `1`, …) like `nn.Sequential`,
/// unless given names.
public struct Sequential: Layer {
    public var layers: [(name: String, layer: any Layer)]

    public init(_ layers: [any Layer]) { self.layers = layers.enumerated().map { (String($0.offset), $0.element) } }
    public init(named layers: [(String, any Layer)]) { self.layers = layers.map { (name: $0.0, layer: $0.1) } }

    public func callAsFunction(_ x: Value) throws -> Value {
        try layers.reduce(x) { v, entry in try v.graphBuilder.scoped(entry.name) { try entry.layer(v) } }
    }
}

/// Runs `layer` inside the scope `name` (the PyTorch attribute name of the submodule).
public func scoped(_ name: String, _ x: Value, _ body: (Value) throws -> Value) throws -> Value {
    try x.graphBuilder.scoped(name) { try body(x) }
}
