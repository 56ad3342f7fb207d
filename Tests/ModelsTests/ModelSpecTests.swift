import Foundation
import Testing
@testable import Models
import NN
import TestSupport

/// The declarative model spec (JSON or YAML) and its reader: what parses, what it builds, and
/// the exact error for each bad input.
@Suite struct ModelSpecTests {
    // MARK: YAML (Yams)

    @Test func yamlBlocksFlowsAndScalars() throws {
        let v = try SpecYAML.parse("""
            # comment
            ---
            name: "quoted # not a comment"
            n: 3
            x: -1.5e-1
            on: true
            none: ~
            plain: hello world  # trailing comment
            list: [1, 2.5, 'a, b', [x, y], {k: v}]
            map: {a: 1, b: [2, 3]}
            nested:
              deeper:
                - 1
                - k: v
                  k2: w
                -
                  - inner
            same-column:
            - a
            - b
            """)
        #expect(v == .object([
            ("name", .string("quoted # not a comment")), ("n", .int(3)), ("x", .double(-0.15)), ("on", .bool(true)),
            ("none", .null), ("plain", .string("hello world")),
            ("list", .array([.int(1), .double(2.5), .string("a, b"), .array([.string("x"), .string("y")]),
                             .object([("k", .string("v"))])])),
            ("map", .object([("a", .int(1)), ("b", .array([.int(2), .int(3)]))])),
            ("nested", .object([("deeper", .array([.int(1), .object([("k", .string("v")), ("k2", .string("w"))]),
                                                   .array([.string("inner")])]))])),
            ("same-column", .array([.string("a"), .string("b")])),
        ]))
    }

    /// YAML 1.2's core schema, as JSON reads values: only `true`/`false` are booleans (YAML 1.1 and Yams'
    /// default also took `yes`, `on`), quoted numbers stay strings; anchors and block scalars are YAML.
    @Test func yamlScalarsFollowTheCoreSchema() throws {
        let v = try SpecYAML.parse("""
            a: yes
            b: "3"
            c: 2026-01-01
            d: &w [8, 16]
            e: *w
            f: |
              two
              lines
            g:
            """)
        #expect(v == .object([
            ("a", .string("yes")), ("b", .string("3")), ("c", .string("2026-01-01")),
            ("d", .array([.int(8), .int(16)])), ("e", .array([.int(8), .int(16)])), ("f", .string("two\nlines\n")), ("g", .null),
        ]))
        #expect(try SpecYAML.parse("") == .null)
    }

    @Test(arguments: [
        ("a: 1\n\tb: 2", SpecYAML.Error(line: 2, column: 1, message: "while scanning a plain scalar (line 1), found a tab character that violates indentation")),
        ("a: 1\na: 2", SpecYAML.Error(line: 1, column: 1, message: "duplicate key 'a' in one mapping (first given here)")),
        ("a: [1, 2", SpecYAML.Error(line: 2, column: 1, message: "while parsing a flow sequence (line 1), did not find expected ',' or ']'")),
        ("a: *nowhere", SpecYAML.Error(line: 1, column: 4, message: "found undefined alias")),
        ("a:\n  b: 1\n c: 2", SpecYAML.Error(line: 3, column: 2, message: "while parsing a block mapping (line 1), did not find expected key")),
        ("- a\nb: 1", SpecYAML.Error(line: 2, column: 1, message: "while parsing a block collection (line 1), did not find expected '-' indicator")),
        ("a: 1\n  b: 2", SpecYAML.Error(line: 2, column: 4, message: "mapping values are not allowed in this context")),
        ("a: 1\n---\nb: 2", SpecYAML.Error(line: 2, column: 1, message: "expected a single document in the stream (line 1), but found another document")),
        ("[1, 2]: x", SpecYAML.Error(line: 1, column: 1, message: "a key must be a string, got a list or mapping")),
    ])
    func yamlErrorsNameTheLine(_ source: String, _ error: SpecYAML.Error) {
        #expect(throws: error) { try SpecYAML.parse(source) }
    }

    @Test func yamlErrorsNameTheFile() {
        #expect(throws: ModelSpec.Error(source: "tiny.yaml", message: "YAML line 2, column 9: mapping values are not allowed in this context")) {
            try ModelSpec.parse("model: pneumonet\n  widths: [8, 16]", format: .yaml, source: "tiny.yaml")
        }
        #expect(throws: ModelSpec.Error(source: "tiny.yaml", message: "blocks: expected an integer, got 'two'")) {
            try ModelSpec.parse("model: pneumonet\nblocks: two", format: .yaml, source: "tiny.yaml")
        }
    }

    // MARK: specs

    @Test func yamlFileBuildsTheLayersItDescribes() throws {
        let spec = try ModelSpec.load(contentsOf: fixtureURL("tiny_cnn.yaml"))
        #expect(spec.architecture == "tiny-cnn")
        #expect(spec.inputChannels == 1)
        let m = try ModelGraph(try spec.layer(), inputShape: [2, 1, 28, 28])
        #expect(m.parameters["0.weight"]?.shape == [16, 1, 3, 3])
        #expect(m.parameters["0.bias"] == nil)
        #expect(m.parameters["3.0.weight"]?.shape == [16, 1, 3, 3])  // depthwise, inside the residual
        #expect(m.parameters["5.weight"]?.shape == [32, 16, 3, 3])
        #expect(m.parameters["5.bias"]?.shape == [32])
        #expect(m.parameters["10.weight"]?.shape == [2, 32])
        #expect(m.graph[m.graph.outputs[0]].shape == [2, 2])
    }

    @Test func jsonAndYAMLSpellingsAreTheSameSpec() throws {
        let json = try ModelSpec.load(contentsOf: fixtureURL("pneumonet_wide.json"))
        let yaml = try ModelSpec.parse("""
            name: pneumonet-wide
            model: pneumonet
            channels: 1
            widths: [24, 48, 96, 192]
            blocks: 2
            """, format: .yaml)
        #expect(json == yaml)
        #expect(json.options == ModelOptions(widths: [24, 48, 96, 192], blocks: 2))
        // The same model as the zoo call in code.
        let a = try ModelGraph(try json.layer(), inputShape: [1, 1, 28, 28])
        let b = try ModelGraph(try ModelZoo.layer("pneumonet", options: ModelOptions(widths: [24, 48, 96, 192], blocks: 2)),
                               inputShape: [1, 1, 28, 28])
        #expect(a.parameters.names == b.parameters.names)
        #expect(a.parameters.trainableCount == b.parameters.trainableCount)
    }

    @Test func layersSpecInCode() throws {
        let spec = ModelSpec(name: "in-code", channels: 3, classes: 3, layers: [
            .conv(out: 8, kernel: 3, stride: 2, padding: 1, groups: 1, depthwise: false, bias: false), .batchNorm, .relu6,
            .avgPool(kernel: 2, stride: nil, padding: 0), .globalAvgPool, .flatten, .dropout(0.1), .linear(out: nil, bias: true),
        ])
        let m = try ModelGraph(try spec.layer(), inputShape: [1, 3, 32, 32])
        #expect(m.graph[m.graph.outputs[0]].shape == [1, 3])
        #expect(m.parameters.trainableCount == 8 * 3 * 9 + 16 + 8 * 3 + 3)
    }

    @Test(arguments: [
        ("{\"model\": \"pneumonet\", \"widht\": 2}",
         "s: unknown key 'widht'; known: name, model, channels, classes, layers, width, expansion, groups, rank, dropout, widths, blocks, upsample"),
        ("{\"name\": \"x\"}", "s: a spec needs 'model' (one of baseline, resnet18, resnet18-grouped, resnet18-dws, resnet18-lowrank, mobilenetv2, pneumonet) or 'layers'"),
        ("{\"model\": \"vgg\"}", "s: unknown model 'vgg'; known: baseline, resnet18, resnet18-grouped, resnet18-dws, resnet18-lowrank, mobilenetv2, pneumonet"),
        ("{\"model\": \"pneumonet\", \"layers\": [\"relu\"]}", "s: 'model' and 'layers' are exclusive: give one"),
        ("{\"layers\": [\"relu\"], \"width\": 2}", "s: 'width' applies to a 'model', not to 'layers'"),
        ("{\"model\": \"pneumonet\", \"blocks\": -1}", "s: blocks: must be at least 0, got -1"),
        ("{\"model\": \"pneumonet\", \"widths\": [8, \"x\"]}", "s: widths[1]: expected an integer, got 'x'"),
        ("{\"layers\": [\"softmax\"]}", "s: layers[0]: unknown layer kind 'softmax'; known: conv, bn, relu, relu6, maxpool, avgpool, gap, flatten, dropout, linear, resize, residual"),
        ("{\"layers\": [{\"conv\": {\"out\": 8}}]}", "s: layers[0].conv: conv needs 'kernel'"),
        ("{\"layers\": [{\"conv\": {\"out\": 8, \"kernel\": 3, \"strides\": 2}}]}",
         "s: layers[0].conv: unknown key 'strides'; known: out, kernel, stride, padding, groups, depthwise, bias"),
        ("{\"layers\": [{\"conv\": {\"out\": 8, \"kernel\": 3, \"stride\": 2, \"padding\": \"same\"}}]}",
         "s: layers[0].conv.padding: padding 'same' needs stride 1 (as in PyTorch)"),
        ("{\"layers\": [{\"relu\": {\"inplace\": true}}]}", "s: layers[0].relu: 'relu' takes no options"),
        ("{\"layers\": [{\"dropout\": 1.5}]}", "s: layers[0].dropout: dropout p must be in [0, 1), got 1.5"),
        ("{\"layers\": [{\"relu\": null, \"bn\": null}]}", "s: layers[0]: a layer is a kind name or a one-key mapping {kind: options}; got keys [\"bn\", \"relu\"]"),
        ("{\"layers\": []}", "s: 'layers' is empty"),
        ("[1, 2]", "s: expected a mapping, got a list"),
        ("{\"model\": ", "s: not valid JSON"),
    ])
    func badSpecsAreRejectedWithTheirPath(_ json: String, _ message: String) {
        do {
            _ = try ModelSpec.parse(json, format: .json, source: "s")
            Issue.record("accepted \(json)")
        } catch let e as ModelSpec.Error {
            if message.hasSuffix("not valid JSON") {
                #expect(e.description.hasPrefix(message))
            } else {
                #expect(e.description == message)
            }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func layerErrorsAtBuildTimeNameTheLayer() throws {
        let flatFirst = try ModelSpec.parse("layers:\n  - gap\n  - linear: {out: 2}", format: .yaml)
        #expect(throws: EngineError.invalid("model spec layers[1]",
                                            "linear needs a flat input [N, features], got [1, 3, 1, 1]; add 'flatten' (after 'gap') before it")) {
            _ = try ModelGraph(try flatFirst.layer(), inputShape: [1, 3, 8, 8])
        }
        let badResidual = try ModelSpec.parse("layers:\n  - residual:\n      - conv: {out: 4, kernel: 1}", format: .yaml)
        #expect(throws: EngineError.invalid("model spec layers[0]",
                                            "the residual body maps [1, 3, 8, 8] to [1, 4, 8, 8]; it must keep the shape")) {
            _ = try ModelGraph(try badResidual.layer(), inputShape: [1, 3, 8, 8])
        }
        let badGroups = try ModelSpec.parse("layers:\n  - conv: {out: 4, kernel: 3, groups: 2}", format: .yaml)
        #expect(throws: EngineError.invalid("model spec layers[0]", "groups 2 must divide in 3 and out 4 channels")) {
            _ = try ModelGraph(try badGroups.layer(), inputShape: [1, 3, 8, 8])
        }
    }

    @Test func optionsTheModelDoesNotReadAreRejected() throws {
        let spec = try ModelSpec.parse("model: mobilenetv2\nrank: 4", format: .yaml)
        #expect(throws: EngineError.invalid("model", "option 'rank' does not apply to mobilenetv2; it reads dropout, expansion, width")) {
            _ = try spec.layer()
        }
    }
}
