import Foundation
import Testing
import GraphCore
@testable import ONNX
import TestSupport

// The importer's forms of MobileNetV3's and EfficientNet's ops (hand-built files): each is checked against the IR ops
// it must become, run on the reference, and each form the IR cannot express against its error, which names the node.

private func load(_ m: Onnx_ModelProto) throws -> ONNXModel { try ONNXImporter.load(data: ProtoBuilder.bytes(m)) }

private func refusal(_ m: Onnx_ModelProto) -> String { onnxError { _ = try load(m) }.map(\.description) ?? "" }

private func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    ProtoBuilder.node(op, inputs, outputs, name: name, attributes)
}

@Suite("Importer: MobileNetV3 and EfficientNet ops")
struct TensorOpImportTests {
    let x = TestData.normal([2, 4, 3, 3], seed: 1)
    let c = TestData.normal([1, 4, 1, 1], seed: 2)

    /// Squeeze-excitation with a constant on either side: Mul broadcasts the pooled scale, Add of equal activations stays
    /// the residual `add`, Div by a scalar, Sub with the constant first (operand order kept).
    @Test func squeezeExcitationAndConstantOperands() throws {
        let m = ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [
            node("GlobalAveragePool", ["x"], ["p"]), node("HardSigmoid", ["p"], ["s"], [.float("alpha", 1 / 6), .float("beta", 0.5)]),
            node("Mul", ["x", "s"], ["m"]), node("Add", ["m", "x"], ["a"]), node("Div", ["a", "two"], ["d"]),
            node("Sub", ["c", "d"], ["y"]),
        ], initializers: [tensorProto(name: "two", Tensor(scalar: 2)), tensorProto(name: "c", c)])
        let model = try load(m)
        #expect(model.graph.nodes.filter { !$0.op.isLeaf }.map(\.op) == [
            .globalAvgPool, .activation(.hardSigmoid(alpha: 1 / 6, beta: 0.5)), .binary(.mul), .add, .binary(.div), .binary(.sub)])
        // The scalar 2 became a 1-element parameter (plans hold no rank-0 values).
        #expect(model.parameters["two"]?.shape == [1])
        let r = ReferenceBackend()
        let s = try r.activation(r.globalAvgPool(x), .hardSigmoid(alpha: 1 / 6, beta: 0.5))
        let expected = try r.binary(.sub, c, r.binary(.div, r.add(r.binary(.mul, x, s), x), Tensor(repeating: 2, shape: [1])))
        expectClose(try model.run(x, backend: r)[0], expected, .exact, "c − (x·s + x) / 2")
    }

    @Test func activationsSoftmaxTransposeConcat() throws {
        let m = ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [
            node("HardSwish", ["x"], ["h"]), node("Sigmoid", ["h"], ["s"]), node("Mul", ["h", "s"], ["w"]),
            node("Transpose", ["w"], ["t"], [.ints("perm", [0, 1, 3, 2])]), node("Concat", ["w", "t"], ["k"], [.int("axis", 1)]),
            node("Softmax", ["k"], ["y"], [.int("axis", 1)]),
        ])
        let model = try load(m)
        #expect(model.graph.nodes.filter { !$0.op.isLeaf }.map(\.op) == [
            .activation(.hardSwish), .activation(.sigmoid), .binary(.mul), .transpose(permutation: [0, 1, 3, 2]), .concat(axis: 1), .softmax(axis: 1)])
        let r = ReferenceBackend()
        let h = try r.activation(x, .hardSwish), w = try r.binary(.mul, h, r.activation(h, .sigmoid))
        let expected = try r.softmax(r.concat([w, r.transpose(w, permutation: [0, 1, 3, 2])], axis: 1), axis: 1)
        expectClose(try model.run(x, backend: r)[0], expected, .exact, "softmax(concat(w, wᵀ))")
        // Softmax's default axis is −1 from opset 13, and before it the input flattened at axis 1: a [N, C] input is the same.
        let flat = ProtoBuilder.model(input: [nil, 6], nodes: [node("Softmax", ["x"], ["y"])], opset: 11)
        #expect(try load(flat).graph.nodes.last?.op == .softmax(axis: 1))
        #expect(try load(ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Softmax", ["x"], ["y"])])).graph.nodes.last?.op == .softmax(axis: 3))
        // Opset 24's Swish (α 1) is the IR's swish.
        let swish = ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Swish", ["x"], ["y"])], opset: 24)
        #expect(try load(swish).graph.nodes.last?.op == .activation(.swish))
    }

    /// torch's TorchScript exporter turns `F.pad(x, (1, 2, 3, 4), mode="reflect")` (W then H, begin/end pairs) into ONNX's
    /// pads through integer arithmetic on constants, which is evaluated at import: pads [0, 0, 3, 1, 0, 0, 4, 2].
    @Test func torchPadArithmeticFolds() throws {
        let m = ProtoBuilder.model(input: [nil, 4, 6, 6], nodes: [
            node("ConstantOfShape", ["four"], ["zeros"], [tensorAttribute("value", int64TensorProto(name: "v", [0]))]),
            node("Concat", ["torch_pads", "zeros"], ["all"], [.int("axis", 0)]),
            node("Reshape", ["all", "pairs"], ["paired"]),
            node("Slice", ["paired", "minus_one", "int64_min", "zero", "minus_one"], ["reversed"]),
            node("Transpose", ["reversed"], ["columns"], [.ints("perm", [1, 0])]),
            node("Reshape", ["columns", "minus_one"], ["flat"]),
            node("Cast", ["flat"], ["pads"], [.int("to", 7)]),
            node("Pad", ["x", "pads"], ["y"], [.string("mode", "reflect")]),
        ], initializers: [int64TensorProto(name: "four", [4]), int64TensorProto(name: "torch_pads", [1, 2, 3, 4]),
                          int64TensorProto(name: "pairs", [-1, 2]), int64TensorProto(name: "minus_one", [-1]),
                          int64TensorProto(name: "int64_min", [Int(Int64.min + 1)]), int64TensorProto(name: "zero", [0])])
        let model = try load(m)
        #expect(model.graph.nodes.last?.op == .pad(PadAttributes(begin: [0, 0, 3, 1], end: [0, 0, 4, 2], mode: .reflect)))
        #expect(try model.run(TestData.normal([1, 4, 6, 6], seed: 3), backend: ReferenceBackend())[0].shape == [1, 4, 13, 9])
    }

    /// The dynamo exporter folds a constant Pad into the Conv after it, leaving asymmetric pads: a zero pad of the
    /// difference, then the convolution with the symmetric part.
    @Test func asymmetricConvPads() throws {
        let w = TestData.normal([2, 4, 3, 3], seed: 4)
        let m = ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [
            node("Conv", ["x", "w"], ["y"], [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 0, 2, 1])])], initializers: [tensorProto(name: "w", w)])
        let model = try load(m)
        let ops = model.graph.nodes.filter { !$0.op.isLeaf }.map(\.op)
        #expect(ops == [.pad(PadAttributes(begin: [0, 0, 0, 0], end: [0, 0, 1, 1])), .conv2d(Conv2dAttributes(padding: Pair(1, 0)))])
        let r = ReferenceBackend()
        let expected = try r.conv2d(r.pad(x, PadAttributes(begin: [0, 0, 1, 0], end: [0, 0, 2, 1])), weight: w, bias: nil, Conv2dAttributes())
        expectClose(try model.run(x, backend: r)[0], expected, Tolerance(abs: 1e-6, rel: 1e-6), "Conv with pads [1, 0, 2, 1]")
    }

    @Test func opsetsUpToTwentyEight() throws {
        #expect(ONNXImporter.supportedOpsets == 11...28)
        _ = try load(ProtoBuilder.smallModel(opset: 28))
        #expect(refusal(ProtoBuilder.smallModel(opset: 29)).contains("opset 29 is not supported; this importer reads opsets 11…28"))
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var model: @Sendable () -> Onnx_ModelProto
        var says: [String]
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "constant spanning the batch", model: {
            ProtoBuilder.model(input: [nil, 4], nodes: [node("Mul", ["x", "k"], ["y"], name: "/scale/Mul")],
                               initializers: [tensorProto(name: "k", TestData.normal([3, 4], seed: 1))])
        }, says: ["node '/scale/Mul' (Mul)", "spans the batch axis"]),
        Refusal(name: "operands that do not broadcast", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Add", ["x", "k"], ["y"])],
                               initializers: [tensorProto(name: "k", TestData.normal([5], seed: 1))])
        }, says: ["(Add)", "[1, 4, 3, 3] and [5] do not broadcast"]),
        Refusal(name: "two constants", model: {
            ProtoBuilder.model(input: [nil, 4], nodes: [node("Mul", ["a", "b"], ["m"]), node("Add", ["x", "m"], ["y"])],
                               initializers: [tensorProto(name: "a", TestData.normal([4], seed: 1)), tensorProto(name: "b", TestData.normal([4], seed: 2))])
        }, says: ["(Mul)", "constants are not folded"]),
        Refusal(name: "transpose moving the batch", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Transpose", ["x"], ["y"], [.ints("perm", [1, 0, 2, 3])])])
        }, says: ["(Transpose)", "moves the batch axis"]),
        Refusal(name: "negative pads", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Pad", ["x", "p"], ["y"])],
                               initializers: [int64TensorProto(name: "p", [0, 0, -1, 0, 0, 0, 0, 0])])
        }, says: ["(Pad)", "negative pads (cropping) are not supported"]),
        Refusal(name: "wrap padding", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Pad", ["x", "p"], ["y"], [.string("mode", "wrap")])],
                               initializers: [int64TensorProto(name: "p", [0, 0, 1, 1, 0, 0, 1, 1])], opset: 19)
        }, says: ["Pad mode 'wrap'"]),
        Refusal(name: "reflect padding beyond the axis", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Pad", ["x", "p"], ["y"], [.string("mode", "reflect")])],
                               initializers: [int64TensorProto(name: "p", [0, 0, 3, 0, 0, 0, 0, 0])])
        }, says: ["(Pad)", "reflect pads 3, 0 of axis 2 must be below its size 3"]),
        Refusal(name: "concat along the batch", model: {
            ProtoBuilder.model(input: [nil, 4], nodes: [node("Concat", ["x", "x"], ["y"], [.int("axis", 0)])])
        }, says: ["(Concat)", "along the batch axis"]),
        Refusal(name: "softmax over several axes before opset 13", model: {
            ProtoBuilder.model(input: [nil, 4, 3, 3], nodes: [node("Softmax", ["x"], ["y"], [.int("axis", 1)])], opset: 11)
        }, says: ["(Softmax)", "only one axis is supported"]),
        Refusal(name: "swish with alpha", model: {
            ProtoBuilder.model(input: [nil, 4], nodes: [node("Swish", ["x"], ["y"], [.float("alpha", 2)])], opset: 24)
        }, says: ["(Swish)", "alpha 2.0"]),
        // Convolutions take asymmetric pads (`asymmetricConvPads`); pooling does not.
        Refusal(name: "asymmetric pooling pads", model: {
            ProtoBuilder.model(input: [nil, 4, 4, 4], nodes: [node("MaxPool", ["x"], ["y"], [.ints("kernel_shape", [2, 2]), .ints("pads", [0, 0, 1, 1])])])
        }, says: ["(MaxPool)", "asymmetric pads [0, 0, 1, 1] are not supported"]),
        Refusal(name: "an op still missing", model: {
            ProtoBuilder.model(input: [nil, 4], nodes: [node("Tanh", ["x"], ["y"])])
        }, says: ["(Tanh)", "unsupported op 'Tanh'", "HardSwish", "Transpose"]),
    ]

    @Test(arguments: refusals)
    func refusesWithTheNode(_ r: Refusal) {
        let message = refusal(r.model())
        for s in r.says { #expect(message.contains(s), "\(r.name): \(message)") }
    }
}

/// A tensor-valued attribute (ConstantOfShape's `value`).
func tensorAttribute(_ name: String, _ t: Onnx_TensorProto) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .tensor
    a.t = t
    return a
}
