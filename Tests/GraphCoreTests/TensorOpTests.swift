import Testing
@testable import GraphCore
import TestSupport

// The ops of MobileNetV3 and EfficientNet (broadcast arithmetic, activations, softmax, transpose, pad, concat, mean)
// against tensor_ops.json (scripts/make_engine_fixtures.py: torch.nn.functional and torch.autograd, or its NumPy
// transcription; `--check` found them within 5e-8). Forward on every backend with 4-D inputs in both layouts;
// forward and every input's gradient through `Executor` (the op's forward and backward rules), on every backend.

/// The IR op of a tensor_ops case.
func tensorOp(_ c: FixtureFile.Case) throws -> Op {
    let a = c.attributes
    switch a.op {
    case "add"?: return .binary(.add)
    case "sub"?: return .binary(.sub)
    case "mul"?: return .binary(.mul)
    case "div"?: return .binary(.div)
    case "sigmoid"?: return .activation(.sigmoid)
    case "hard_sigmoid"?: return .activation(.hardSigmoid(alpha: Float(a.alpha!), beta: Float(a.beta!)))
    case "hard_swish"?: return .activation(.hardSwish)
    case "swish"?: return .activation(.swish)
    case "softmax"?: return .softmax(axis: a.axis!)
    case "transpose"?: return .transpose(permutation: a.permutation!)
    case "pad"?:
        return .pad(PadAttributes(begin: a.begin!, end: a.end!, mode: PadAttributes.Mode(rawValue: a.mode!)!, value: Float(a.value!)))
    case "concat"?: return .concat(axis: a.axis!)
    case "reduce_mean"?: return .reduceMean(axes: a.axes!, keepDims: a.keep_dims!)
    default: throw FixtureError("case '\(c.name)': unknown op \(a.op ?? "nil")")
    }
}

/// The case's inputs x0, x1, … in order.
func tensorOpInputs(_ c: FixtureFile.Case) throws -> [Tensor] {
    try (0..<c.tensors.count).compactMap { k in c.tensors["x\(k)"] == nil ? nil : try c.tensor("x\(k)") }
}

/// A graph whose parameters x0, x1, … feed one node of `op`: its output, and the parameters' names.
func singleOpGraph(_ op: Op, _ inputs: [Tensor]) throws -> (Graph, ParameterStore, ValueID) {
    let b = GraphBuilder()
    var operands: [Value] = []
    for (k, x) in inputs.enumerated() {
        operands.append(try b.parameter("x\(k)", shape: x.shape, initializer: .zeros))
    }
    let y = try b.apply(op, operands)
    b.markOutputs([y])
    var p = b.parameters
    for (k, x) in inputs.enumerated() { try p.set("x\(k)", x) }
    return (b.graph, p, y.id)
}

@Suite("Tensor op fixtures (MobileNetV3, EfficientNet)")
struct TensorOpTests {
    @Test func fixtureFileCarriesProvenance() throws {
        let file = try FixtureFile.load("tensor_ops")
        #expect(file.op == "tensor_ops" && file.script == "scripts/make_engine_fixtures.py")
        #expect(Set(file.cases.compactMap(\.attributes.op)) == ["add", "sub", "mul", "div", "sigmoid", "hard_sigmoid", "hard_swish", "swish",
                                                                 "softmax", "transpose", "pad", "concat", "reduce_mean"])
    }

    @Test(arguments: FixtureFile.caseNames("tensor_ops"))
    func forwardOnEveryBackendAndLayout(_ name: String) throws {
        let c = try FixtureFile.loadCase("tensor_ops", name)
        let (op, inputs) = (try tensorOp(c), try tensorOpInputs(c))
        let expected = try c.tensor("output")
        for backend in fixtureBackends {
            for layout in layouts {
                let x = inputs.map { laid($0, layout) }
                let y: Tensor = switch op {
                case .binary(let o): try backend.binary(o, x[0], x[1])
                case .activation(let f): try backend.activation(x[0], f)
                case .softmax(let axis): try backend.softmax(x[0], axis: axis)
                case .transpose(let perm): try backend.transpose(x[0], permutation: perm)
                case .pad(let a): try backend.pad(x[0], a)
                case .concat(let axis): try backend.concat(x, axis: axis)
                case .reduceMean(let axes, let keep): try backend.reduceMean(x[0], axes: axes, keepDims: keep)
                default: throw FixtureError("\(name): not a tensor op")
                }
                expectClose(y, expected, fixtureTolerance, "\(name) on \(backend.name), \(layout) inputs")
            }
        }
    }

    @Test(arguments: FixtureFile.caseNames("tensor_ops"))
    func forwardAndGradientsThroughExecutor(_ name: String) throws {
        let c = try FixtureFile.loadCase("tensor_ops", name)
        let (op, inputs) = (try tensorOp(c), try tensorOpInputs(c))
        let (graph, parameters, y) = try singleOpGraph(op, inputs)
        for backend in fixtureBackends {
            var (p, rng) = (parameters, SeededRandom(seed: 0))
            let executor = Executor(graph: graph, backend: backend)
            let pass = try executor.forward(feeds: [:], parameters: &p, mode: .training, rng: &rng)
            expectClose(pass[y]!, try c.tensor("output"), fixtureTolerance, "\(name) on \(backend.name): forward")
            let grads = try executor.backward(pass, seed: y, gradient: try c.tensor("grad_output"))
            for k in inputs.indices {
                guard let g = grads["x\(k)"] else { Issue.record("\(name) on \(backend.name): no gradient for x\(k)"); continue }
                expectClose(g, try c.tensor("grad_x\(k)"), fixtureTolerance, "\(name) on \(backend.name): d/dx\(k)")
            }
        }
    }
}
