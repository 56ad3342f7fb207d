import Foundation
import Testing
@testable import GraphCore
import TestSupport

// Failure is tested like success (STYLE §8): each bad input throws an EngineError of the right kind, naming
// the op (and layer) and the shapes involved.

/// Runs `body`, which must throw an EngineError of `kind` whose `op` is `op` and whose message contains every
/// string of `mentions`.
func expectEngineError(_ kind: EngineError.Kind, op: String, mentions: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    #expect(error.op == op, "\(error)", sourceLocation: sourceLocation)
    for m in mentions {
        #expect(error.message.contains(m), "message should mention \(m): \(error)", sourceLocation: sourceLocation)
    }
    #expect(error.description == "\(error.op): \(error.message)")
}

@Suite("Bad input")
struct ErrorTests {
    let backend = ReferenceBackend()

    @Test func convChannelMismatch() {
        let x = Tensor(zeros: [1, 3, 5, 5]), w = Tensor(zeros: [4, 2, 3, 3])
        expectEngineError(.shape, op: "conv2d", mentions: ["[4, 2, 3, 3]", "[1, 3, 5, 5]"]) {
            _ = try backend.conv2d(x, weight: w, bias: nil, .init())
        }
        // Through the builder, the layer's scope path is named too.
        let b = GraphBuilder()
        let input = b.input("x", shape: [1, 3, 5, 5])
        expectEngineError(.shape, op: "conv2d 'layer1.0.conv1'", mentions: ["[4, 2, 3, 3]", "[1, 3, 5, 5]"]) {
            try b.scoped("layer1") { try b.scoped("0") { try b.scoped("conv1") {
                _ = try input.conv2d(weight: b.parameter("weight", shape: [4, 2, 3, 3], initializer: .zeros), bias: nil, .init())
            } } }
        }
    }

    @Test func convGroupsMustDivideChannels() {
        // 4 input channels, groups 3.
        expectEngineError(.shape, op: "conv2d", mentions: ["groups 3", "input channels 4", "output channels 6"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 4, 5, 5]), weight: Tensor(zeros: [6, 1, 3, 3]), bias: nil, .init(groups: 3))
        }
        // Divisible, but the weight's input channels times groups is not the input's channels.
        expectEngineError(.shape, op: "conv2d", mentions: ["[4, 2, 3, 3]", "groups 2", "[1, 6, 5, 5]"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 6, 5, 5]), weight: Tensor(zeros: [4, 2, 3, 3]), bias: nil, .init(groups: 2))
        }
        expectEngineError(.shape, op: "conv2d", mentions: ["groups 0"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 4, 5, 5]), weight: Tensor(zeros: [4, 4, 3, 3]), bias: nil, .init(groups: 0))
        }
    }

    @Test func convOtherShapeErrors() {
        expectEngineError(.shape, op: "conv2d", mentions: ["bias [3]", "[4]"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 2, 5, 5]), weight: Tensor(zeros: [4, 2, 3, 3]), bias: Tensor(zeros: [3]), .init())
        }
        expectEngineError(.shape, op: "conv2d", mentions: ["5×5", "[1, 2, 3, 3]"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 2, 3, 3]), weight: Tensor(zeros: [4, 2, 5, 5]), bias: nil, .init())
        }
        expectEngineError(.shape, op: "conv2d", mentions: ["rank 4", "[2, 5]"]) {
            _ = try backend.conv2d(Tensor(zeros: [2, 5]), weight: Tensor(zeros: [4, 2, 3, 3]), bias: nil, .init())
        }
        expectEngineError(.unsupported, op: "conv2d") {
            _ = try backend.conv2d(Tensor(zeros: [1, 2, 5, 5]), weight: Tensor(zeros: [4, 2, 3, 3]), bias: nil, .init(stride: Pair(0)))
        }
    }

    /// The tensor ops' shape rules, each error naming the op and the shapes.
    @Test func tensorOpShapeErrors() {
        expectEngineError(.shape, op: "mul", mentions: ["[2, 3]", "[4]", "do not broadcast"]) {
            _ = try backend.binary(.mul, Tensor(zeros: [2, 3]), Tensor(zeros: [4]))
        }
        expectEngineError(.shape, op: "transpose", mentions: ["[0, 0, 1]", "[2, 3, 4]"]) {
            _ = try backend.transpose(Tensor(zeros: [2, 3, 4]), permutation: [0, 0, 1])
        }
        expectEngineError(.shape, op: "pad", mentions: ["reflect pads 3, 0 of axis 1", "size 3"]) {
            _ = try backend.pad(Tensor(zeros: [1, 3]), PadAttributes(begin: [0, 3], end: [0, 0], mode: .reflect))
        }
        expectEngineError(.unsupported, op: "pad", mentions: ["negative pads"]) {
            _ = try backend.pad(Tensor(zeros: [1, 3]), PadAttributes(begin: [0, -1], end: [0, 0]))
        }
        expectEngineError(.shape, op: "concat", mentions: ["[2, 3, 4]", "[2, 4, 5]", "axis 1"]) {
            _ = try backend.concat([Tensor(zeros: [2, 3, 4]), Tensor(zeros: [2, 4, 5])], axis: 1)
        }
        expectEngineError(.shape, op: "reduce_mean", mentions: ["axes [2, 1]"]) {
            _ = try backend.reduceMean(Tensor(zeros: [2, 3, 4]), axes: [2, 1], keepDims: true)
        }
        expectEngineError(.shape, op: "softmax", mentions: ["axis 2", "[2, 3]"]) { _ = try backend.softmax(Tensor(zeros: [2, 3]), axis: 2) }
        // Through the builder, the layer is named.
        let b = GraphBuilder()
        let x = b.input("x", shape: [1, 4, 3, 3])
        expectEngineError(.shape, op: "mul 'se'", mentions: ["[1, 4, 3, 3]", "[1, 3, 1, 1]"]) {
            try b.scoped("se") { _ = try x.binary(.mul, b.parameter("s", shape: [1, 3, 1, 1], initializer: .ones)) }
        }
    }

    @Test func poolPaddingAboveHalfTheKernel() {
        expectEngineError(.unsupported, op: "max_pool2d", mentions: ["padding"]) {
            _ = try backend.maxPool2d(Tensor(zeros: [1, 1, 6, 6]), .init(kernel: Pair(2), padding: Pair(2)))
        }
        expectEngineError(.shape, op: "avg_pool2d", mentions: ["[1, 1, 1, 1]"]) {
            _ = try backend.avgPool2d(Tensor(zeros: [1, 1, 1, 1]), .init(kernel: Pair(3), stride: Pair(1)))
        }
    }

    /// A window that does not fit must be an error whatever the stride: `(size + 2p − d(k − 1) − 1)` is
    /// floor-divided like PyTorch, so a numerator in (−stride, 0) gives no output (truncation would give 1).
    @Test func windowThatDoesNotFitWithStride() {
        // avg pool 3×3 (stride 3) on 2×2: ⌊(2 − 3)/3⌋ + 1 = 0.
        expectEngineError(.shape, op: "avg_pool2d", mentions: ["[1, 1, 2, 2]"]) {
            _ = try backend.avgPool2d(Tensor(zeros: [1, 1, 2, 2]), .init(kernel: Pair(3)))
        }
        // conv 5×5 stride 2 on 4×4: ⌊(4 − 4 − 1)/2⌋ + 1 = 0.
        expectEngineError(.shape, op: "conv2d", mentions: ["[1, 1, 4, 4]"]) {
            _ = try backend.conv2d(Tensor(zeros: [1, 1, 4, 4]), weight: Tensor(zeros: [1, 1, 5, 5]), bias: nil, .init(stride: Pair(2)))
        }
    }

    @Test func linearShapeMismatch() {
        expectEngineError(.shape, op: "linear", mentions: ["[2, 5]", "[3, 4]"]) {
            _ = try backend.linear(Tensor(zeros: [2, 5]), weight: Tensor(zeros: [3, 4]), bias: nil)
        }
        expectEngineError(.shape, op: "linear", mentions: ["bias [4]", "[3]"]) {
            _ = try backend.linear(Tensor(zeros: [2, 4]), weight: Tensor(zeros: [3, 4]), bias: Tensor(zeros: [4]))
        }
        // Forgetting to flatten: a 4-D input.
        let b = GraphBuilder()
        let x = b.input("x", shape: [2, 3, 2, 2])
        expectEngineError(.shape, op: "linear 'fc'", mentions: ["rank 2", "[2, 3, 2, 2]"]) {
            try b.scoped("fc") { _ = try x.linear(weight: b.parameter("weight", shape: [2, 12], initializer: .zeros), bias: nil) }
        }
    }

    @Test func addWithDifferentShapes() {
        expectEngineError(.shape, op: "add", mentions: ["[2, 3]", "[3, 2]"]) {
            _ = try backend.add(Tensor(zeros: [2, 3]), Tensor(zeros: [3, 2]))
        }
        expectEngineError(.shape, op: "multiply", mentions: ["[2, 3]", "[6]"]) {
            _ = try backend.multiply(Tensor(zeros: [2, 3]), Tensor(zeros: [6]))
        }
        // A residual connection whose branches disagree, in the graph.
        let b = GraphBuilder()
        let (p, q) = (b.input("a", shape: [1, 4, 8, 8]), b.input("b", shape: [1, 4, 4, 4]))
        expectEngineError(.shape, op: "add 'layer2.0'", mentions: ["[1, 4, 8, 8]", "[1, 4, 4, 4]"]) {
            try b.scoped("layer2") { try b.scoped("0") { _ = try p + q } }
        }
    }

    @Test(arguments: [Float(3), -1, 1.5, 100])
    func softmaxCrossEntropyLabelOutOfRange(label: Float) {
        let logits = TestData.normal([2, 3], seed: 1)
        let labels = try! Tensor(shape: [2], scalars: [0, label])
        expectEngineError(.invalidArgument, op: "softmax_cross_entropy", mentions: ["\(label)", "0..<3"]) {
            _ = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, classWeights: nil)
        }
    }

    @Test(arguments: [Float.nan, .infinity])
    func softmaxCrossEntropyNonFiniteLogits(bad: Float) {
        var logits = TestData.normal([3, 4], seed: 2)
        logits.withUnsafeMutableBufferPointer { $0[5] = bad }
        let labels = try! Tensor(shape: [3], scalars: [0, 1, 2])
        expectEngineError(.numeric, op: "softmax_cross_entropy", mentions: ["[3, 4]"]) {
            _ = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, classWeights: nil)
        }
    }

    @Test func softmaxCrossEntropyShapesInTheGraph() {
        let b = GraphBuilder()
        let logits = b.input("logits", shape: [4, 2]), labels = b.input("labels", shape: [3])
        expectEngineError(.shape, op: "softmax_cross_entropy", mentions: ["[3]", "[4, 2]"]) {
            _ = try logits.softmaxCrossEntropy(labels: labels)
        }
        let good = b.input("y", shape: [4])
        expectEngineError(.shape, op: "softmax_cross_entropy", mentions: ["3 class weights", "2 classes"]) {
            _ = try logits.softmaxCrossEntropy(labels: good, classWeights: [1, 2, 3])
        }
    }

    @Test func graphBuilderDuplicateParameter() throws {
        let b = GraphBuilder()
        try b.scoped("fc") { _ = try b.parameter("weight", shape: [2, 2], initializer: .zeros) }
        expectEngineError(.invalidArgument, op: "graph builder", mentions: ["'fc.weight'", "twice"]) {
            try b.scoped("fc") { _ = try b.parameter("weight", shape: [2, 2], initializer: .zeros) }
        }
        // A buffer may not take a parameter's name either.
        expectEngineError(.invalidArgument, op: "graph builder", mentions: ["'fc.weight'"]) {
            try b.scoped("fc") { _ = try b.buffer("weight", shape: [2], initializer: .zeros) }
        }
        // The same local name in another scope is fine.
        try b.scoped("fc2") { _ = try b.parameter("weight", shape: [2, 2], initializer: .zeros) }
        #expect(b.parameters.names == ["fc.weight", "fc2.weight"])
    }

    @Test func graphBuilderRejectsForeignOperands() {
        let a = GraphBuilder(), b = GraphBuilder()
        let x = a.input("x", shape: [1, 2]), y = b.input("y", shape: [1, 2])
        expectEngineError(.invalidArgument, op: "add", mentions: ["another graph"]) { _ = try x + y }
    }

    @Test func dropoutProbabilityOutOfRange() {
        let b = GraphBuilder()
        let x = b.input("x", shape: [1, 2])
        for p: Float in [1, -0.1] {
            expectEngineError(.invalidArgument, op: "dropout", mentions: ["\(p)"]) { _ = try x.dropout(p: p) }
        }
    }

    @Test func tensorScalarCountMismatch() {
        expectEngineError(.shape, op: "Tensor", mentions: ["5 values", "[2, 3]"]) {
            _ = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        expectEngineError(.shape, op: "Tensor", mentions: ["[-2, -3]"]) {
            _ = try Tensor(shape: [-2, -3], scalars: [1, 2, 3, 4, 5, 6])
        }
    }

    @Test func reshapeCountMismatch() {
        let t = Tensor(zeros: [2, 3, 4])
        expectEngineError(.shape, op: "reshape", mentions: ["[2, 3, 4]", "24", "[5, 5]"]) { _ = try t.reshaped([5, 5]) }
        expectEngineError(.shape, op: "reshape", mentions: ["[-4, -6]"]) { _ = try t.reshaped([-4, -6]) }
    }

    @Test func parameterStoreSet() throws {
        var store = ParameterStore()
        store.declare("w", Tensor(zeros: [2, 2]), trainable: true)
        expectEngineError(.invalidArgument, op: "parameters", mentions: ["'v'"]) { try store.set("v", Tensor(zeros: [2, 2])) }
        expectEngineError(.shape, op: "parameters", mentions: ["'w'", "[2, 2]", "[4]"]) { try store.set("w", Tensor(zeros: [4])) }
    }

    @Test func executorFeeds() throws {
        let b = GraphBuilder()
        let x = b.input("x", shape: [2, 3])
        let w = try b.parameter("w", shape: [1, 3], initializer: .ones)
        b.markOutputs([try x.linear(weight: w, bias: nil)])
        let executor = Executor(graph: b.graph, backend: backend)
        var params = b.parameters, rng = SeededRandom(seed: 0)
        expectEngineError(.invalidArgument, op: "graph", mentions: ["'x'"]) {
            _ = try executor.forward(feeds: [:], parameters: &params, mode: .inference, rng: &rng)
        }
        expectEngineError(.shape, op: "input 'x'", mentions: ["[2, 3]", "[2, 4]"]) {
            _ = try executor.forward(feeds: ["x": Tensor(zeros: [2, 4])], parameters: &params, mode: .inference, rng: &rng)
        }
        // Any batch size is accepted.
        _ = try executor.forward(feeds: ["x": Tensor(zeros: [5, 3])], parameters: &params, mode: .inference, rng: &rng)
        // The differentiated output must be a scalar.
        let pass = try executor.forward(feeds: ["x": Tensor(zeros: [2, 3])], parameters: &params, mode: .training, rng: &rng)
        expectEngineError(.invalidArgument, op: "backward", mentions: ["scalar"]) { _ = try executor.backward(pass) }
    }

    /// An inference pass has released the values backward needs: an error, not a trap.
    @Test func backwardOfAnInferencePassThrows() throws {
        let net = try TinyNet()
        let executor = Executor(graph: net.graph, backend: ReferenceBackend())
        var params = net.parameters, rng = SeededRandom(seed: 1)
        let pass = try executor.forward(feeds: net.feeds, parameters: &params, mode: .inference, rng: &rng)
        expectEngineError(.invalidArgument, op: "backward", mentions: ["inference"]) { _ = try executor.backward(pass) }
    }

    /// Labels that are not representable as class indices (NaN, ±∞, 1e20) are errors, not traps.
    @Test(arguments: [Float.nan, 1e20, -Float.infinity])
    func softmaxCrossEntropyNonIntegerRepresentableLabel(_ bad: Float) {
        expectEngineError(.invalidArgument, op: "softmax_cross_entropy", mentions: ["label"]) {
            _ = try SoftmaxCrossEntropy.forward(logits: Tensor(zeros: [1, 3]), labels: Tensor(shape: [1], scalars: [bad]), classWeights: nil)
        }
    }
}

extension ErrorTests {
    @Test func distillationTeacherShapeMustMatch() {
        expectEngineError(.shape, op: "distillation", mentions: ["[4, 3]", "[4, 2]"]) {
            _ = try DistillationLoss.forward(student: Tensor(zeros: [4, 2]), teacher: Tensor(zeros: [4, 3]),
                                             labels: Tensor(zeros: [4]), temperature: 4, alpha: 0.5)
        }
        expectEngineError(.shape, op: "distillation", mentions: ["[4]"]) {
            _ = try DistillationLoss.forward(student: Tensor(zeros: [4]), teacher: Tensor(zeros: [4]),
                                             labels: Tensor(zeros: [4]), temperature: 4, alpha: 0.5)
        }
    }

    @Test(arguments: [(Float(0), Float(0.5), "temperature"), (-1, 0.5, "temperature"), (.infinity, 0.5, "temperature"),
                      (.nan, 0.5, "temperature"), (4, -0.1, "alpha"), (4, 1.5, "alpha"), (4, .nan, "alpha")])
    func distillationParameters(temperature: Float, alpha: Float, field: String) {
        expectEngineError(.invalidArgument, op: "distillation", mentions: [field]) {
            _ = try DistillationLoss.forward(student: Tensor(zeros: [2, 2]), teacher: Tensor(zeros: [2, 2]),
                                             labels: Tensor(zeros: [2]), temperature: temperature, alpha: alpha)
        }
    }

    @Test func distillationNonFiniteTeacher() {
        expectEngineError(.numeric, op: "distillation", mentions: ["teacher"]) {
            _ = try DistillationLoss.forward(student: Tensor(zeros: [1, 2]), teacher: Tensor(shape: [1, 2], scalars: [.nan, 0]),
                                             labels: Tensor(zeros: [1]), temperature: 4, alpha: 0.5)
        }
    }
}
