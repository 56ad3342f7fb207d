import GraphCore

/// What an architecture rewrite returns: the new graph and parameters, and one entry per layer it changed.
public struct RewriteResult: Sendable {
    public var graph: Graph
    public var parameters: ParameterStore
    public var changes: [LayerChange]

    public init(graph: Graph, parameters: ParameterStore, changes: [LayerChange]) {
        self.graph = graph; self.parameters = parameters; self.changes = changes
    }

    /// The changed layers' names (the rewrite's candidate layers).
    public var layers: [String] { changes.map(\.layer) }
}

/// One layer a rewrite changed.
public struct LayerChange: Sendable, Codable, Equatable {
    /// The layer (node) name, e.g. `layer1.0.conv1`.
    public var layer: String
    /// What became of it, e.g. `[64, 64, 3, 3] → [64, 1, 3, 3] + [64, 64, 1, 1]`.
    public var detail: String
    /// `‖W − W'‖_F / ‖W‖_F`, where `W'` is the weight the rewritten layer computes with, written back in
    /// the original shape (0: the layer computes exactly what it did).
    public var weightError: Double

    public init(layer: String, detail: String, weightError: Double) {
        self.layer = layer; self.detail = detail; self.weightError = weightError
    }
}

/// A convolution whose weight (and bias, if any) are parameters: what the architecture rewrites work on.
public struct ConvSite: Sendable {
    public var node: Int
    /// The node's name, e.g. `layer1.0.conv1`.
    public var name: String
    /// The weight parameter's name, e.g. `layer1.0.conv1.weight`.
    public var weightName: String
    public var attributes: Conv2dAttributes
    /// `[K, C/groups, kH, kW]`.
    public var weightShape: [Int]
    public var hasBias: Bool

    public var outChannels: Int { weightShape[0] }
    public var inChannels: Int { weightShape[1] * attributes.groups }
    public var kernel: Pair { Pair(weightShape[2], weightShape[3]) }
    /// Stem for the names of replacement parameters: the weight's name without `.weight`
    /// (`layer1.0.conv1` → `layer1.0.conv1.0.weight`, `.1.weight`, as `ResNet18Variant` names them).
    public var prefix: String {
        weightName.hasSuffix(".weight") ? String(weightName.dropLast(".weight".count)) : (name.isEmpty ? weightName : name)
    }
}

/// Which convolutions a rewrite applies to. The default is the ResNet blocks' 3×3 convolutions: the
/// stem (7×7 on 1–3 channels) and the 1×1 shortcuts are left alone, as `ResNet18Variant` does.
public struct ConvSelection: Sendable, Hashable {
    /// Only square kernels of this size; nil: any kernel larger than 1×1.
    public var kernel: Int?
    /// Only convolutions with at least this many input channels (the spec's depthwise hint: 16).
    public var minInputChannels: Int

    public init(kernel: Int? = 3, minInputChannels: Int = 16) {
        self.kernel = kernel; self.minInputChannels = minInputChannels
    }

    public static let blockConvolutions = ConvSelection()
    /// Every dense convolution with a spatial kernel.
    public static let allSpatial = ConvSelection(kernel: nil, minInputChannels: 1)

    /// Dense (groups 1) convolutions with a selected kernel size and enough input channels.
    public func includes(_ site: ConvSite) -> Bool {
        guard site.attributes.groups == 1, site.inChannels >= minInputChannels else { return false }
        if let kernel { return site.kernel == Pair(kernel) }
        return site.kernel.h * site.kernel.w > 1
    }
}

extension Graph {
    /// Every convolution whose weight and bias are parameters read by no other node.
    public func convSites() -> [ConvSite] {
        let consumers = consumerCounts()
        return nodes.indices.compactMap { i -> ConvSite? in
            let node = nodes[i]
            guard case .conv2d(let a) = node.op, case .parameter(let w) = self[node.inputs[1]].op,
                  consumers[node.inputs[1].index] == 1 else { return nil }
            if node.inputs.count == 3 {
                guard case .parameter = self[node.inputs[2]].op, consumers[node.inputs[2].index] == 1 else { return nil }
            }
            return ConvSite(node: i, name: node.name, weightName: w, attributes: a, weightShape: self[node.inputs[1]].shape,
                            hasBias: node.inputs.count == 3)
        }
    }
}

/// Small helpers the rewrites share.
enum RewriteSupport {
    /// The tensor of a parameter or buffer leaf.
    static func tensor(_ id: ValueID, _ graph: Graph, _ parameters: ParameterStore, _ rewrite: String) throws -> Tensor {
        switch graph[id].op {
        case .parameter(let n), .buffer(let n):
            guard let t = parameters[n] else { throw EngineError.invalid(rewrite, "no value for '\(n)'") }
            return t
        default:
            throw EngineError.unsupported(rewrite, "'\(graph[id].name)' must be a parameter")
        }
    }

    /// Whether a leaf is trainable (parameters) or not (buffers), to re-declare it the same way.
    static func isTrainable(_ id: ValueID, _ graph: Graph) -> Bool {
        if case .buffer = graph[id].op { return false }
        return true
    }

    /// Recomputes every node's recorded shape from the inputs' recorded shapes (rewrites that change
    /// channel counts leave downstream shapes stale until this runs).
    static func refreshShapes(_ graph: Graph) throws -> Graph {
        var inputs: [String: [Int]] = [:]
        for n in graph.nodes { if case .input(let name) = n.op { inputs[name] = n.shape } }
        let shapes = try graph.inferShapes(inputs: inputs)
        var out = graph
        for i in out.nodes.indices { out.nodes[i].shape = shapes[i] }
        return out
    }

    /// Finishes a rewriter: dead nodes dropped, shapes recomputed.
    static func finish(_ r: GraphRewriter, _ changes: [LayerChange]) throws -> RewriteResult {
        let (g, p) = r.finish()
        return RewriteResult(graph: try refreshShapes(g), parameters: p, changes: changes)
    }

    /// `‖a − b‖ / ‖a‖` (0 when both are zero).
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) { num += Double(x - y) * Double(x - y); den += Double(x) * Double(x) }
        return den == 0 ? (num == 0 ? 0 : .infinity) : (num / den).squareRoot()
    }

    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
}
