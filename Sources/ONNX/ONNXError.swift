/// What went wrong reading or writing an ONNX file. `context` names where (`node '/conv1/Conv' (Conv)`,
/// `initializer 'fc.weight'`, `graph input 'image'`), `message` what and, where it helps, what would work.
public struct ONNXError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file cannot be read, or the output cannot be written.
        case io
        /// Not a well-formed ONNX protobuf: truncated, wrong wire types, missing or contradictory fields,
        /// a tensor whose bytes do not match its shape.
        case malformed
        /// Well-formed but beyond a bound of `ONNXLimits` (size, nesting, rank, element count).
        case limit
        /// Valid ONNX that this translator does not express (an op, an attribute value, a data type).
        case unsupported
        /// A graph whose references do not hold: a dangling or duplicate name, a cycle, a missing input or output.
        case invalidGraph
        /// External tensor data that is refused (outside the model's directory, through a symlink) or unreadable.
        case externalData
    }

    public let kind: Kind
    public let context: String
    public let message: String
    /// The file, when the error came from one.
    public var path: String?

    public init(_ kind: Kind, _ context: String, _ message: String, path: String? = nil) {
        self.kind = kind; self.context = context; self.message = message; self.path = path
    }

    public var description: String {
        let located = context.isEmpty ? message : "\(context): \(message)"
        return path.map { "\($0): \(located)" } ?? located
    }

    func at(path: String) -> ONNXError {
        var e = self
        if e.path == nil { e.path = path }
        return e
    }
}

/// Bounds applied to every file before anything is allocated from its numbers. The defaults admit
/// ResNet-18 and MobileNetV2 at any practical input size with a wide margin, and keep a hostile file from
/// asking for more than a few GiB or from nesting deeper than the decoder's stack allows.
public struct ONNXLimits: Sendable, Equatable {
    /// Largest file read (protobuf itself stops at 2 GiB).
    public var maxFileBytes: Int = 1 << 30
    /// Deepest message nesting the protobuf decoder follows (model → graph → node → attribute → graph …).
    public var maxMessageDepth: Int = 64
    /// Most nodes in the graph, and most initializers.
    public var maxNodes: Int = 100_000
    /// Highest tensor rank.
    public var maxRank: Int = 8
    /// Largest element count of one tensor: an initializer, a constant, or an activation at the example batch.
    public var maxTensorElements: Int = 1 << 28
    /// Largest total element count of all initializers (external data included).
    public var maxTotalElements: Int = 1 << 30
    /// Largest kernel size, stride, padding, dilation and resize target along one axis.
    public var maxSpatial: Int = 1 << 16

    public init() {}
}
