import Foundation
import Testing
import GraphCore
@testable import ONNX
import TestSupport

// The importer's op variants beyond what our exporter and torch write: each ONNX form is checked against
// an equivalent form (or the IR op it must become), and each form it cannot express against its error.

private func load(_ m: Onnx_ModelProto) throws -> ONNXModel { try ONNXImporter.load(data: ProtoBuilder.bytes(m)) }

private func run(_ m: Onnx_ModelProto, _ x: Tensor) throws -> Tensor {
    try load(m).run(x, backend: ReferenceBackend())[0]
}

private func refusal(_ m: Onnx_ModelProto) -> String {
    onnxError { _ = try load(m) }.map(\.description) ?? ""
}

private func transposed(_ t: Tensor) -> Tensor {
    let (r, c) = (t.shape[0], t.shape[1]), s = t.scalars
    return try! Tensor(shape: [c, r], scalars: (0..<(r * c)).map { i in s[(i % r) * c + i / r] })
}

@Suite("Importer: ONNX op variants")
struct ImporterOpTests {
    let w = TestData.normal([3, 4], seed: 1), b = TestData.normal([3], seed: 2)
    let x2 = TestData.normal([2, 4, 1, 1], seed: 3)

    /// x [N, 4, 1, 1] → Flatten → `head` nodes reading "f" → y.
    func head(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto]) -> Onnx_ModelProto {
        ProtoBuilder.model(input: [nil, 4, 1, 1], nodes: [ProtoBuilder.node("Flatten", ["x"], ["f"], [.int("axis", 1)])] + nodes,
                           initializers: initializers)
    }

    @Test func gemmForms() throws {
        let reference = try run(head([ProtoBuilder.node("Gemm", ["f", "W", "B"], ["y"], [.int("transB", 1)])],
                                     [tensorProto(name: "W", w), tensorProto(name: "B", b)]), x2)
        // transB = 0 with the transposed matrix: the importer transposes it back, keeping the name.
        let m0 = head([ProtoBuilder.node("Gemm", ["f", "Wt", "B"], ["y"])], [tensorProto(name: "Wt", transposed(w)), tensorProto(name: "B", b)])
        expectClose(try run(m0, x2), reference, .exact, "Gemm transB=0")
        #expect(try load(m0).parameters["Wt"]?.shape == [3, 4])
        // alpha and beta fold into the constant operands (exact for powers of two).
        let scaledW = try Tensor(shape: [3, 4], scalars: w.scalars.map { $0 / 2 })
        let scaledB = try Tensor(shape: [1, 3], scalars: b.scalars.map { $0 * 4 })
        let m1 = head([ProtoBuilder.node("Gemm", ["f", "W", "B"], ["y"], [.int("transB", 1), .float("alpha", 2), .float("beta", 0.25)])],
                      [tensorProto(name: "W", scaledW), tensorProto(name: "B", scaledB)])
        expectClose(try run(m1, x2), reference, .exact, "Gemm alpha=2, beta=0.25, bias [1, 3]")
        // MatMul then Add of the bias (either operand order) is one linear node with a bias.
        for order in [["mm", "B"], ["B", "mm"]] {
            let m2 = head([ProtoBuilder.node("MatMul", ["f", "Wt"], ["mm"]), ProtoBuilder.node("Add", order, ["y"])],
                          [tensorProto(name: "Wt", transposed(w)), tensorProto(name: "B", b)])
            expectClose(try run(m2, x2), reference, .exact, "MatMul + Add \(order)")
            #expect(try load(m2).graph.nodes.filter { $0.op == .linear }.map(\.inputs.count) == [3])
        }
        // transA is not expressible.
        let m3 = head([ProtoBuilder.node("Gemm", ["f", "W"], ["y"], [.int("transA", 1)])], [tensorProto(name: "W", w)])
        #expect(refusal(m3).contains("transA=1 is not supported"))
    }

    @Test func convolutionPadding() throws {
        let x = TestData.normal([1, 2, 7, 7], seed: 4)
        let weight = tensorProto(name: "w", TestData.normal([3, 2, 3, 3], seed: 5))
        func conv(_ attributes: [Onnx_AttributeProto]) -> Onnx_ModelProto {
            ProtoBuilder.model(input: [1, 2, 7, 7], nodes: [ProtoBuilder.node("Conv", ["x", "w"], ["y"], attributes)], initializers: [weight])
        }
        let explicit = try run(conv([.ints("pads", [1, 1, 1, 1]), .ints("strides", [2, 2])]), x)
        expectClose(try run(conv([.string("auto_pad", "SAME_UPPER"), .ints("strides", [2, 2])]), x), explicit, .exact, "SAME_UPPER")
        expectClose(try run(conv([.string("auto_pad", "VALID")]), x), try run(conv([]), x), .exact, "VALID")
        #expect(refusal(conv([.string("auto_pad", "SAME_LOWER"), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1])])).contains("explicit pads"))
        // 8 px, stride 2: SAME needs 1 pixel of padding in all, which cannot be split evenly.
        let even = ProtoBuilder.model(input: [1, 2, 8, 8], nodes: [ProtoBuilder.node("Conv", ["x", "w"], ["y"],
                                                                                      [.string("auto_pad", "SAME_UPPER"), .ints("strides", [2, 2])])],
                                      initializers: [weight])
        #expect(refusal(even).contains("needs asymmetric padding"))
    }

    @Test func pooling() throws {
        let x = TestData.normal([1, 2, 7, 7], seed: 6)
        func pool(_ op: String, _ attributes: [Onnx_AttributeProto], size: Int64 = 7) -> Onnx_ModelProto {
            ProtoBuilder.model(input: [1, 2, size, size], nodes: [ProtoBuilder.node(op, ["x"], ["y"], attributes)])
        }
        // ceil_mode=1 where it gives the same size as floor mode (7 → 3 with kernel 3, stride 2) is accepted.
        let floor = try run(pool("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2])]), x)
        expectClose(try run(pool("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .int("ceil_mode", 1)]), x), floor, .exact, "ceil_mode")
        #expect(refusal(pool("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", 1)])).contains("ceil_mode=1 gives 4 outputs"))
        #expect(refusal(pool("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("dilations", [2, 2])])).contains("dilated pooling"))
        #expect(refusal(pool("MaxPool", [.ints("strides", [2, 2])])).contains("kernel_shape is required"))
        // AveragePool: count_include_pad only matters with padding (ONNX's default is 0, PyTorch's 1).
        let withPad = try run(pool("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .int("count_include_pad", 1)]), x)
        #expect(withPad.shape == [1, 2, 7, 7])
        _ = try run(pool("AveragePool", [.ints("kernel_shape", [3, 3])]), x)
        #expect(refusal(pool("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])])).contains("count_include_pad=0"))
        // ReduceMean over H, W is global average pooling; keepdims 0 adds the flatten.
        let gap = try run(pool("GlobalAveragePool", []), x)
        let rm = ProtoBuilder.model(input: [1, 2, 7, 7], nodes: [ProtoBuilder.node("ReduceMean", ["x"], ["y"], [.ints("axes", [-1, -2]), .int("keepdims", 0)])], opset: 13)
        expectClose(try run(rm, x), try gap.reshaped([1, 2]), .exact, "ReduceMean axes [-1, -2], keepdims 0")
        // Other axes are the IR's mean; the batch axis is refused.
        let rmChannels = ProtoBuilder.model(input: [1, 2, 7, 7], nodes: [ProtoBuilder.node("ReduceMean", ["x"], ["y"], [.ints("axes", [1])])], opset: 13)
        expectClose(try run(rmChannels, x), try ReferenceBackend().reduceMean(x, axes: [1], keepDims: true), .exact, "ReduceMean axes [1]")
        let rmBatch = ProtoBuilder.model(input: [nil, 2, 7, 7], nodes: [ProtoBuilder.node("ReduceMean", ["x"], ["y"], [.ints("axes", [0, 1])])], opset: 13)
        #expect(refusal(rmBatch).contains("ReduceMean over the batch axis is not supported"))
    }

    @Test func resizeForms() throws {
        let x = TestData.normal([1, 2, 5, 6], seed: 7)
        let reference = try ReferenceBackend().resizeBilinear(x, height: 10, width: 12)
        func resize(_ inputs: [String], _ initializers: [Onnx_TensorProto], _ attributes: [Onnx_AttributeProto] = [.string("mode", "linear")],
                    opset: Int64 = 17) -> Onnx_ModelProto {
            ProtoBuilder.model(input: [nil, 2, 5, 6], nodes: [ProtoBuilder.node("Resize", ["x"] + inputs, ["y"], attributes)],
                               initializers: initializers, opset: opset)
        }
        let scales = tensorProto(name: "s", try Tensor(shape: [4], scalars: [1, 1, 2, 2]))
        expectClose(try run(resize(["", "s"], [scales]), x), reference, Tolerance(abs: 1e-6, rel: 0), "scales 2×")
        let sizes = int64TensorProto(name: "sz", [1, 2, 10, 12])
        expectClose(try run(resize(["", "", "sz"], [sizes]), x), reference, Tolerance(abs: 1e-6, rel: 0), "sizes")
        let hw = int64TensorProto(name: "hw", [10, 12])
        expectClose(try run(resize(["", "", "hw"], [hw], [.string("mode", "linear"), .ints("axes", [2, 3])], opset: 18), x), reference,
                    Tolerance(abs: 1e-6, rel: 0), "sizes with axes")
        let pytorch = [Onnx_AttributeProto.string("mode", "linear"), .string("coordinate_transformation_mode", "pytorch_half_pixel")]
        expectClose(try run(resize(["", "", "sz"], [sizes], pytorch), x), reference, Tolerance(abs: 1e-6, rel: 0), "pytorch_half_pixel")

        #expect(refusal(resize(["", "", "sz"], [sizes], [])).contains("Resize mode 'nearest' is not supported"))
        #expect(refusal(resize(["", "", "sz"], [sizes], [.string("mode", "linear"), .string("coordinate_transformation_mode", "align_corners")]))
            .contains("'align_corners' is not supported"))
        let third = tensorProto(name: "s", try Tensor(shape: [4], scalars: [1, 1, 1.3, 1.3]))
        #expect(refusal(resize(["", "s"], [third])).contains("give sizes instead"))
        let channels = int64TensorProto(name: "sz", [1, 4, 10, 12])
        #expect(refusal(resize(["", "", "sz"], [channels])).contains("resizing the batch or channel axis"))
        let one = int64TensorProto(name: "sz", [1, 2, 1, 12])
        #expect(refusal(resize(["", "", "sz"], [one], pytorch)).contains("pytorch_half_pixel to a size of 1"))
        #expect(refusal(resize(["", "s", "sz"], [scales, sizes])).contains("not both"))
        let upsample = ProtoBuilder.model(input: [1, 2, 5, 6], nodes: [ProtoBuilder.node("Upsample", ["x", "s"], ["y"])], initializers: [scales])
        #expect(refusal(upsample).contains("Upsample (deprecated since opset 10) is not supported"))
    }

    @Test func activationsAndShapes() throws {
        let x = TestData.normal([2, 3, 4, 4], seed: 8)
        let relu = try run(ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Relu", ["x"], ["y"])]), x)
        // Clip(0) without a max is ReLU.
        let clip = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Clip", ["x", "lo"], ["y"])],
                                      initializers: [tensorProto(name: "lo", Tensor(scalar: 0))])
        expectClose(try run(clip, x), relu, .exact, "Clip(0, ∞)")
        #expect(try load(clip).graph.nodes.last?.op == .relu)
        // Flatten axis -3 of a rank-4 input is axis 1; axis 2 would merge the batch.
        let flat = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Flatten", ["x"], ["y"], [.int("axis", -3)])])
        #expect(try run(flat, x).shape == [2, 48])
        let flat2 = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Flatten", ["x"], ["y"], [.int("axis", 2)])])
        #expect(refusal(flat2).contains("only axis 1"))
        // Reshape to [batch, 48] through Shape/Gather/Unsqueeze/Concat, to [0, -1], and to [-1, 48] all flatten.
        let viaShape = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [
            ProtoBuilder.node("Shape", ["x"], ["s"]), ProtoBuilder.node("Gather", ["s", "zero"], ["n"], [.int("axis", 0)]),
            ProtoBuilder.node("Unsqueeze", ["n", "axes"], ["n1"]), ProtoBuilder.node("Concat", ["n1", "rest"], ["target"], [.int("axis", 0)]),
            ProtoBuilder.node("Reshape", ["x", "target"], ["y"]),
        ], initializers: [int64TensorProto(name: "zero", [0], shape: []), int64TensorProto(name: "axes", [0]), int64TensorProto(name: "rest", [-1])])
        #expect(try run(viaShape, x).shape == [2, 48])
        for target in [[0, -1], [-1, 48]] {
            let m = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Reshape", ["x", "t"], ["y"])],
                                       initializers: [int64TensorProto(name: "t", target)])
            #expect(try run(m, x).shape == [2, 48], "Reshape to \(target)")
        }
        let bad = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Reshape", ["x", "t"], ["y"])],
                                     initializers: [int64TensorProto(name: "t", [0, 12, 4])])
        #expect(refusal(bad).contains("only flattening the trailing dimensions"))
        // A shape computation is no tensor, and a used dropout mask is refused.
        let shapeOut = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Shape", ["x"], ["y"])])
        #expect(refusal(shapeOut).contains("not a tensor computed from the input"))
        let mask = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Dropout", ["x"], ["d", "mask"]),
                                                                     ProtoBuilder.node("Add", ["d", "mask"], ["y"])])
        #expect(refusal(mask).contains("only the first output is supported"))
        let bn = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"],
                                                                                   [.int("training_mode", 1)])],
                                    initializers: ["g", "b", "m", "v"].map { tensorProto(name: $0, TestData.normal([3], seed: 1)) })
        #expect(refusal(bn).contains("training_mode=1"))
        // A constant that would stretch along the batch axis is refused (an Add of a constant broadcasts otherwise).
        let alongBatch = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [ProtoBuilder.node("Add", ["x", "c"], ["y"])],
                                            initializers: [tensorProto(name: "c", TestData.normal([2, 3, 1, 1], seed: 1))])
        #expect(refusal(alongBatch).contains("spans the batch axis"))
    }

    /// torch merges equal initializers and re-creates the names with Identity; the importer names each
    /// parameter after the Identity's output, so state-dict names survive.
    @Test func identityOfInitializerKeepsItsName() throws {
        let x = TestData.normal([1, 3, 4, 4], seed: 9)
        let ones = tensorProto(name: "bn.weight", Tensor(repeating: 1, shape: [3]))
        let zeros = tensorProto(name: "bn.bias", Tensor(repeating: 0, shape: [3]))
        let m = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [
            ProtoBuilder.node("Identity", ["bn.weight"], ["bn.running_var"], name: "Identity_1"),
            ProtoBuilder.node("Identity", ["bn.bias"], ["bn.running_mean"], name: "Identity_2"),
            ProtoBuilder.node("BatchNormalization", ["x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["y"]),
        ], initializers: [ones, zeros])
        let model = try load(m)
        #expect(model.parameters.names == ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"])
        #expect(model.parameters.bufferNames == ["bn.running_mean", "bn.running_var"])
        let expected = try Tensor(shape: x.shape, scalars: x.scalars.map { $0 / (1 + 1e-5 as Float).squareRoot() })
        expectClose(try model.run(x, backend: ReferenceBackend())[0], expected, Tolerance(abs: 1e-6, rel: 1e-6), "BN with aliased statistics")
    }

    /// Nodes out of order are scheduled; nodes no output needs are not translated (an unknown op there is harmless).
    @Test func unsortedAndDeadNodes() throws {
        let x = TestData.normal([1, 3, 4, 4], seed: 10)
        let m = ProtoBuilder.model(input: [nil, 3, 4, 4], nodes: [
            ProtoBuilder.node("Relu", ["a"], ["y"], name: "second"),
            ProtoBuilder.node("FancyOp", ["x"], ["unused"]),
            ProtoBuilder.node("GlobalAveragePool", ["x"], ["a"], name: "first"),
        ])
        let model = try load(m)
        #expect(model.graph.nodes.map(\.op.kindName) == ["input", "global_avg_pool", "relu"])
        #expect(try model.run(x, backend: ReferenceBackend())[0].shape == [1, 3, 1, 1])
    }
}
