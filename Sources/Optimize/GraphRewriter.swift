import GraphCore

/// Builds a new graph from an old one node by node, renumbering ids; the rewrites are small functions
/// over it. After rewriting, nodes no output depends on are dropped, and so are their parameters.
public struct GraphRewriter {
    public let source: Graph
    public private(set) var graph = Graph()
    public var parameters: ParameterStore
    /// New id of each old node (nil until it is visited, or when it was removed).
    private var map: [ValueID?]

    public init(_ graph: Graph, parameters: ParameterStore) {
        source = graph
        self.parameters = parameters
        map = Array(repeating: nil, count: graph.nodes.count)
    }

    /// The new id standing for old node `id`.
    public func mapped(_ id: ValueID) -> ValueID { map[id.index]! }

    /// Copies old node `index` with its inputs remapped.
    public mutating func keep(_ index: Int) {
        var node = source.nodes[index]
        node.inputs = node.inputs.map(mapped)
        map[index] = emit(node)
    }

    /// Makes old node `index` stand for an existing new value (the node disappears).
    public mutating func alias(_ index: Int, to newID: ValueID) { map[index] = newID }

    /// Appends a node whose inputs are already new ids.
    @discardableResult
    public mutating func emit(_ node: Node) -> ValueID {
        graph.nodes.append(node)
        return ValueID(graph.nodes.count - 1)
    }

    /// Appends (or updates) a parameter leaf.
    public mutating func emitParameter(_ name: String, _ value: Tensor, trainable: Bool = true) -> ValueID {
        parameters.declare(name, value, trainable: trainable)
        return emit(Node(op: trainable ? .parameter(name: name) : .buffer(name: name), inputs: [], shape: value.shape, name: name))
    }

    /// Finishes: maps the outputs, drops dead nodes and the parameters only they used.
    public func finish() -> (graph: Graph, parameters: ParameterStore) {
        var g = graph
        g.outputs = source.outputs.map(mapped)
        return Self.eliminateDeadNodes(g, parameters: parameters)
    }

    public static func eliminateDeadNodes(_ graph: Graph, parameters: ParameterStore) -> (graph: Graph, parameters: ParameterStore) {
        var live = [Bool](repeating: false, count: graph.nodes.count)
        for o in graph.outputs { live[o.index] = true }
        for i in stride(from: graph.nodes.count - 1, through: 0, by: -1) where live[i] {
            for input in graph.nodes[i].inputs { live[input.index] = true }
        }
        // Inputs stay even when unused, so that feeding a graph never fails for a missing name.
        for (i, n) in graph.nodes.enumerated() { if case .input = n.op { live[i] = true } }
        var newIndex = [Int](repeating: -1, count: graph.nodes.count)
        var out = Graph()
        var kept = ParameterStore()
        for (i, node) in graph.nodes.enumerated() where live[i] {
            var n = node
            n.inputs = n.inputs.map { ValueID(newIndex[$0.index]) }
            newIndex[i] = out.nodes.count
            out.nodes.append(n)
            switch n.op {
            case .parameter(let name), .buffer(let name):
                if let t = parameters[name] { kept.declare(name, t, trainable: parameters.trainable.contains(name)) }
            default: break
            }
        }
        out.outputs = graph.outputs.map { ValueID(newIndex[$0.index]) }
        // Keep the original declaration order of what survives.
        var ordered = ParameterStore()
        for name in parameters.names where kept[name] != nil { ordered.declare(name, kept[name]!, trainable: kept.trainable.contains(name)) }
        for name in kept.names where ordered[name] == nil { ordered.declare(name, kept[name]!, trainable: kept.trainable.contains(name)) }
        return (out, ordered)
    }
}

extension Graph {
    /// How many nodes read each node.
    public func consumerCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for i in n.inputs { counts[i.index] += 1 } }
        for o in outputs { counts[o.index] += 1 }
        return counts
    }
}
