/// Identifies a node (and the single value it produces) in a `Graph`.
public struct ValueID: Hashable, Sendable, Comparable, Codable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
}

/// One op application. `shape` is the shape inferred when the graph was built (its batch size is the
/// builder's example batch; `Graph.inferShapes` recomputes shapes for another batch).
public struct Node: Sendable, Codable {
    public var op: Op
    public var inputs: [ValueID]
    public var shape: [Int]
    /// The module path that produced it (`layer1.0.conv1`), or the parameter's full name for leaves.
    public var name: String

    public init(op: Op, inputs: [ValueID], shape: [Int], name: String) {
        self.op = op; self.inputs = inputs; self.shape = shape; self.name = name
    }
}

/// The graph IR: nodes in topological order (every input precedes its user) and the outputs.
/// Training, profiling, optimization rewrites, ONNX translation and the runtime all work on this.
public struct Graph: Sendable, Codable {
    public var nodes: [Node] = []
    public var outputs: [ValueID] = []

    public init(nodes: [Node] = [], outputs: [ValueID] = []) {
        self.nodes = nodes; self.outputs = outputs
    }

    public subscript(id: ValueID) -> Node { nodes[id.index] }

    /// Input names in the order they were declared.
    public var inputNames: [String] {
        nodes.compactMap { if case .input(let name) = $0.op { name } else { nil } }
    }

    /// The id of the input named `name`.
    public func inputID(_ name: String) -> ValueID? {
        nodes.indices.first { if case .input(name) = nodes[$0].op { true } else { false } }.map(ValueID.init)
    }

    /// Shapes of every node for the given input shapes (the batch size may differ from the build's).
    public func inferShapes(inputs: [String: [Int]]) throws -> [[Int]] {
        var shapes: [[Int]] = []
        shapes.reserveCapacity(nodes.count)
        for node in nodes {
            switch node.op {
            case .input(let name):
                guard let s = inputs[name] else { throw EngineError.invalid("graph", "no value fed for input '\(name)'") }
                guard s.count == node.shape.count, s.dropFirst() == node.shape.dropFirst() else {
                    throw EngineError.shape("input '\(name)'", "expected \(describe(node.shape)) with any batch size, got \(describe(s))")
                }
                shapes.append(s)
            case .parameter, .buffer:
                shapes.append(node.shape)
            default:
                shapes.append(try ShapeInference.infer(node.op, node.inputs.map { shapes[$0.index] }, name: node.name))
            }
        }
        return shapes
    }

    /// Checks what a decoded (untrusted) graph must satisfy: inputs precede their users, outputs exist,
    /// leaves have no inputs; then infers every shape, which validates the ops' attributes.
    public func validate(inputs: [String: [Int]]) throws {
        for (i, node) in nodes.enumerated() {
            guard node.inputs.allSatisfy({ $0.index >= 0 && $0.index < i }) else {
                throw EngineError.invalid("graph", "node \(i) (\(node.op.kindName) '\(node.name)') reads a node that does not precede it")
            }
            if node.op.isLeaf && !node.inputs.isEmpty { throw EngineError.invalid("graph", "leaf node \(i) has inputs") }
        }
        guard !outputs.isEmpty, outputs.allSatisfy({ $0.index >= 0 && $0.index < nodes.count }) else {
            throw EngineError.invalid("graph", "outputs must name existing nodes")
        }
        _ = try inferShapes(inputs: inputs)
    }

    /// For each node, the index of the last node that reads it (outputs live to the end).
    public func lastUses() -> [Int] {
        var last = Array(0..<nodes.count)
        for (i, node) in nodes.enumerated() { for input in node.inputs { last[input.index] = max(last[input.index], i) } }
        for out in outputs { last[out.index] = nodes.count }
        return last
    }
}
