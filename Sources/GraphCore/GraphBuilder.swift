/// Records ops into a `Graph` while model code runs, and creates the model's parameters.
///
/// Models are written once, as code over `Value`s; the same recorded graph is trained, profiled,
/// rewritten, exported and compiled. Parameter names are the scope path plus the local name
/// (`layer1.0.conv1.weight`), PyTorch's convention.
public final class GraphBuilder {
    public private(set) var graph = Graph()
    public private(set) var parameters = ParameterStore()
    private var rng: SeededRandom
    private var scopes: [String] = []

    public init(seed: UInt64 = 0) { rng = SeededRandom(seed: seed) }

    /// The current scope path, e.g. `layer1.0`.
    public var scopePath: String { scopes.joined(separator: ".") }

    func qualified(_ local: String) -> String { scopes.isEmpty ? local : scopePath + "." + local }

    /// Runs `body` with `name` appended to the scope path (an empty name adds nothing).
    public func scoped<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        if name.isEmpty { return try body() }
        scopes.append(name)
        defer { scopes.removeLast() }
        return try body()
    }

    public func input(_ name: String, shape: [Int]) -> Value {
        append(Node(op: .input(name: name), inputs: [], shape: shape, name: name))
    }

    /// A trainable parameter named `<scope>.<local>`, initialised now.
    public func parameter(_ local: String, shape: [Int], initializer: Initializer) throws -> Value {
        try leaf(local, shape: shape, initializer: initializer, trainable: true)
    }

    /// A non-trainable buffer (running statistics).
    public func buffer(_ local: String, shape: [Int], initializer: Initializer) throws -> Value {
        try leaf(local, shape: shape, initializer: initializer, trainable: false)
    }

    private func leaf(_ local: String, shape: [Int], initializer: Initializer, trainable: Bool) throws -> Value {
        let name = qualified(local)
        guard parameters[name] == nil else { throw EngineError.invalid("graph builder", "parameter '\(name)' declared twice") }
        parameters.declare(name, initializer.makeTensor(shape, using: &rng), trainable: trainable)
        let op: Op = trainable ? .parameter(name: name) : .buffer(name: name)
        return append(Node(op: op, inputs: [], shape: shape, name: name))
    }

    /// Applies `op` to `inputs`, inferring (and so validating) the output shape now.
    public func apply(_ op: Op, _ inputs: [Value]) throws -> Value {
        for v in inputs where v.builder !== self {
            throw EngineError.invalid(op.kindName, "operand comes from another graph")
        }
        let shape = try ShapeInference.infer(op, inputs.map(\.shape), name: scopePath)
        return append(Node(op: op, inputs: inputs.map(\.id), shape: shape, name: scopePath))
    }

    public func markOutputs(_ values: [Value]) { graph.outputs = values.map(\.id) }

    private func append(_ node: Node) -> Value {
        graph.nodes.append(node)
        return Value(id: ValueID(graph.nodes.count - 1), shape: node.shape, builder: self)
    }
}

/// A symbolic tensor being recorded: a node of the graph under construction.
public struct Value {
    public let id: ValueID
    public let shape: [Int]
    let builder: GraphBuilder

    public var graphBuilder: GraphBuilder { builder }
}

extension Value {
    public func conv2d(weight: Value, bias: Value?, _ attributes: Conv2dAttributes) throws -> Value {
        try builder.apply(.conv2d(attributes), [self, weight] + (bias.map { [$0] } ?? []))
    }
    public func batchNorm2d(weight: Value, bias: Value, runningMean: Value, runningVar: Value,
                            _ attributes: BatchNormAttributes = .init()) throws -> Value {
        try builder.apply(.batchNorm2d(attributes), [self, weight, bias, runningMean, runningVar])
    }
    public func relu() throws -> Value { try builder.apply(.relu, [self]) }
    public func relu6() throws -> Value { try builder.apply(.relu6, [self]) }
    public func maxPool2d(_ a: Pool2dAttributes) throws -> Value { try builder.apply(.maxPool2d(a), [self]) }
    public func avgPool2d(_ a: Pool2dAttributes) throws -> Value { try builder.apply(.avgPool2d(a), [self]) }
    public func globalAvgPool() throws -> Value { try builder.apply(.globalAvgPool, [self]) }
    public func linear(weight: Value, bias: Value?) throws -> Value {
        try builder.apply(.linear, [self, weight] + (bias.map { [$0] } ?? []))
    }
    public func flatten(startDim: Int = 1) throws -> Value { try builder.apply(.flatten(startDim: startDim), [self]) }
    public func dropout(p: Float) throws -> Value {
        guard p >= 0, p < 1 else { throw EngineError.invalid("dropout", "p must be in [0, 1), got \(p)") }
        return try builder.apply(.dropout(p: p), [self])
    }
    public func resizeBilinear(height: Int, width: Int) throws -> Value {
        try builder.apply(.resizeBilinear(height: height, width: width), [self])
    }
    public func softmaxCrossEntropy(labels: Value, classWeights: [Float]? = nil) throws -> Value {
        try builder.apply(.softmaxCrossEntropy(classWeights: classWeights), [self, labels])
    }
    public static func + (a: Value, b: Value) throws -> Value { try a.builder.apply(.add, [a, b]) }

    /// self ∘ other with NumPy broadcasting (`Op.binary`).
    public func binary(_ op: BinaryOperator, _ other: Value) throws -> Value { try builder.apply(.binary(op), [self, other]) }
    public func activation(_ f: Activation) throws -> Value { try builder.apply(.activation(f), [self]) }
    public func sigmoid() throws -> Value { try activation(.sigmoid) }
    /// PyTorch's `hardsigmoid` by default (α = 1/6, β = 1/2).
    public func hardSigmoid(alpha: Float = 1 / 6, beta: Float = 0.5) throws -> Value { try activation(.hardSigmoid(alpha: alpha, beta: beta)) }
    public func hardSwish() throws -> Value { try activation(.hardSwish) }
    /// x · σ(x) (SiLU).
    public func swish() throws -> Value { try activation(.swish) }
    public func softmax(axis: Int) throws -> Value { try builder.apply(.softmax(axis: axis), [self]) }
    public func transpose(_ permutation: [Int]) throws -> Value { try builder.apply(.transpose(permutation: permutation), [self]) }
    public func pad(_ a: PadAttributes) throws -> Value { try builder.apply(.pad(a), [self]) }
    public func reduceMean(axes: [Int], keepDims: Bool) throws -> Value {
        try builder.apply(.reduceMean(axes: axes, keepDims: keepDims), [self])
    }
    /// `values` joined along `axis`.
    public static func concat(_ values: [Value], axis: Int) throws -> Value {
        guard let first = values.first else { throw EngineError.invalid("concat", "nothing to concatenate") }
        return try first.builder.apply(.concat(axis: axis), values)
    }
}
