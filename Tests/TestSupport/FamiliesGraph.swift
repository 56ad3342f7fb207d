import GraphCore

/// A small graph with every op MobileNetV3 and EfficientNet bring, built with `GraphBuilder` (the Swift twin of
/// scripts/make_onnx_fixtures.py's FamiliesNet), for the runtime's and the exporter's tests. Input `image`
/// `[batch, 3, size, size]` (size even), output `[batch, 2]` logits:
///
/// (x − mean) / std with `[1, 3, 1, 1]` constants (broadcast Sub, Div); conv 3×3 + hard-swish; MobileNetV3's
/// squeeze-excitation (global pool, 1×1 conv, ReLU, 1×1 conv, hard-sigmoid, broadcast Mul); 1×1 conv written as
/// x·sigmoid(x) (EfficientNet's SiLU as exporters write it); EfficientNet's squeeze-excitation (swish, sigmoid);
/// reflect pad; concat with its own H↔W transpose; edge pad; 1×1 conv; a channel softmax of a pooled 1×1 conv times the
/// map; mean over W then H (rank 3 between); linear, hard-swish, linear. Weights N(0, 1/fan_in), biases N(0, 0.1²):
/// activations stay O(1), so every op shows in the logits.
public func familiesGraph(batch: Int = 2, size: Int = 12, seed: UInt64 = 5) throws -> (graph: Graph, parameters: ParameterStore) {
    let b = GraphBuilder(seed: seed)
    func weight(_ name: String, _ shape: [Int]) throws -> Value {
        let fanIn = shape.dropFirst().reduce(1, *)
        return try b.parameter(name, shape: shape, initializer: .normal(std: Float((1 / Double(fanIn)).squareRoot())))
    }
    func conv(_ x: Value, _ name: String, _ cin: Int, _ cout: Int, kernel: Int = 1) throws -> Value {
        try b.scoped(name) {
            try x.conv2d(weight: weight("weight", [cout, cin, kernel, kernel]), bias: b.parameter("bias", shape: [cout], initializer: .normal(std: 0.1)),
                         Conv2dAttributes(padding: Pair(kernel / 2)))
        }
    }
    func squeezeExcitation(_ x: Value, _ name: String, _ c: Int, _ squeezed: Int, activation: Activation?, scale: Activation) throws -> Value {
        var s = try conv(x.globalAvgPool(), name + ".fc1", c, squeezed)
        s = try activation.map { try s.activation($0) } ?? s.relu()
        return try x.binary(.mul, conv(s, name + ".fc2", squeezed, c).activation(scale))
    }
    var x = b.input("image", shape: [batch, 3, size, size])
    x = try x.binary(.sub, b.parameter("mean", shape: [1, 3, 1, 1], initializer: .normal(std: 0.3)))
    x = try x.binary(.div, b.parameter("std", shape: [1, 3, 1, 1], initializer: .constant(0.25)))
    x = try conv(x, "stem", 3, 8, kernel: 3).hardSwish()
    x = try squeezeExcitation(x, "se1", 8, 4, activation: nil, scale: .hardSigmoid(alpha: 1 / 6, beta: 0.5))
    let e = try conv(x, "expand", 8, 12)
    x = try e.binary(.mul, e.sigmoid())
    x = try squeezeExcitation(x, "se2", 12, 4, activation: .swish, scale: .sigmoid)
    x = try x.pad(PadAttributes(begin: [0, 0, 1, 1], end: [0, 0, 1, 1], mode: .reflect))
    x = try Value.concat([x, x.transpose([0, 1, 3, 2])], axis: 1)
    x = try x.pad(PadAttributes(begin: [0, 0, 0, 0], end: [0, 0, 1, 1], mode: .edge))
    x = try conv(x, "mix", 24, 16)
    let w = try conv(x.reduceMean(axes: [2, 3], keepDims: true), "attention", 16, 16).softmax(axis: 1)
    x = try x.binary(.mul, w).reduceMean(axes: [3], keepDims: false).reduceMean(axes: [2], keepDims: false)
    x = try b.scoped("fc1") { try x.linear(weight: weight("weight", [16, 16]), bias: b.parameter("bias", shape: [16], initializer: .normal(std: 0.1))) }
    x = try x.hardSwish()
    x = try b.scoped("fc2") { try x.linear(weight: weight("weight", [2, 16]), bias: b.parameter("bias", shape: [2], initializer: .normal(std: 0.1))) }
    b.markOutputs([x])
    return (b.graph, b.parameters)
}
