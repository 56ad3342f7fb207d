import Foundation
import NN

/// A model variant defined without Swift, in a small declarative file (JSON, or the YAML subset that
/// `YAMLSubset` reads). Two forms:
///
/// A family member with options (any key of `ModelOptions`; those the member does not read are errors):
/// ```yaml
/// name: pneumonet-wide
/// model: pneumonet        # one of ModelZoo.names
/// channels: 1             # default: the member's (ModelZoo.defaultChannels)
/// widths: [24, 48, 96, 192]
/// blocks: 2
/// ```
///
/// Or a stack of layers, named `0`, `1`, … like `nn.Sequential` (so `layers[0]`'s weight is `0.weight`):
/// ```yaml
/// name: tiny-cnn
/// channels: 1                        # default 1
/// classes: 2                         # default 2
/// layers:
///   - conv: {out: 16, kernel: 3, padding: 1, bias: false}
///   - bn
///   - relu
///   - residual:                      # body(x) + x; the body must keep the shape
///       - conv: {depthwise: true, kernel: 3, padding: same, bias: false}
///       - bn
///   - maxpool: {kernel: 2}
///   - gap                            # global average pool
///   - flatten
///   - dropout: 0.2
///   - linear: {}                     # out defaults to `classes`
/// ```
/// Layer kinds and their keys (PyTorch's defaults where PyTorch has one; input channels and features are
/// inferred): `conv` {out, kernel, stride = 1, padding = 0 | same, groups = 1, depthwise = false, bias = true},
/// `bn`, `relu`, `relu6`, `maxpool`/`avgpool` {kernel, stride = kernel, padding = 0}, `gap`, `flatten`,
/// `dropout` (p, or {p}), `linear` {out = classes, bias = true}, `resize` (size, or {size}: bilinear),
/// `residual` [layers].
public struct ModelSpec: Sendable, Hashable {
    public var name: String?
    /// A `ModelZoo` member; exclusive with `layers`.
    public var model: String?
    public var channels: Int?
    public var classes: Int?
    public var options: ModelOptions
    public var layers: [LayerSpec]?

    public init(name: String? = nil, model: String? = nil, channels: Int? = nil, classes: Int? = nil,
                options: ModelOptions = ModelOptions(), layers: [LayerSpec]? = nil) {
        self.name = name; self.model = model; self.channels = channels; self.classes = classes
        self.options = options; self.layers = layers
    }

    public enum Format: Sendable { case json, yaml }

    /// Errors name the file and the path of the offending entry (`layers[3].conv.kernel`).
    public struct Error: Swift.Error, CustomStringConvertible, Equatable, Sendable {
        public let source: String
        public let message: String
        public var description: String { "\(source): \(message)" }
    }

    /// The architecture name reports show: `name`, else the member's name, else "custom".
    public var architecture: String { name ?? model ?? "custom" }

    /// Input channels the model is built for.
    public var inputChannels: Int { channels ?? model.map(ModelZoo.defaultChannels) ?? 1 }

    /// Reads a spec file; the format follows the extension (`.json`, `.yaml`/`.yml`), else the content.
    public static func load(contentsOf url: URL) throws -> ModelSpec {
        let source = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw Error(source: source, message: "cannot read the spec file (\(error.localizedDescription))")
        }
        let ext = url.pathExtension.lowercased()
        let format: Format = ext == "json" ? .json : ["yaml", "yml"].contains(ext) ? .yaml
            : (text.first { !$0.isWhitespace } == "{" ? .json : .yaml)
        return try parse(text, format: format, source: source)
    }

    public static func parse(_ text: String, format: Format, source: String = "model spec") throws -> ModelSpec {
        let value: SpecValue
        switch format {
        case .json:
            do { value = try JSONDecoder().decode(SpecValue.self, from: Data(text.utf8)) } catch {
                throw Error(source: source, message: "not valid JSON (\(error))")
            }
        case .yaml:
            do { value = try YAMLSubset.parse(text) } catch let e as YAMLSubset.Error {
                throw Error(source: source, message: e.description)
            }
        }
        return try ModelSpec(value, source: source)
    }

    static let optionKeys = ["width", "expansion", "groups", "rank", "dropout", "widths", "blocks", "upsample"]

    /// Decodes a parsed spec, rejecting unknown keys and wrong types with the entry's path.
    public init(_ value: SpecValue, source: String = "model spec") throws {
        let root = SpecReader(value: value, path: "", source: source)
        let entries = try root.object(allowed: ["name", "model", "channels", "classes", "layers"] + Self.optionKeys)
        name = try entries["name"]?.string()
        model = try entries["model"]?.string()
        channels = try entries["channels"]?.int(min: 1)
        classes = try entries["classes"]?.int(min: 1)
        options = ModelOptions(
            width: try entries["width"]?.double(), expansion: try entries["expansion"]?.double(),
            groups: try entries["groups"]?.int(min: 1), rank: try entries["rank"]?.int(min: 1),
            dropout: (try entries["dropout"]?.double()).map { Float($0) }, widths: try entries["widths"]?.array().map { try $0.int(min: 1) },
            blocks: try entries["blocks"]?.int(min: 0), upsample: try entries["upsample"]?.int(min: 1))
        layers = try entries["layers"]?.array().map(LayerSpec.init)
        switch (model, layers) {
        case (nil, nil): throw root.fail("a spec needs 'model' (one of \(ModelZoo.names.joined(separator: ", "))) or 'layers'")
        case (.some, .some): throw root.fail("'model' and 'layers' are exclusive: give one")
        case (nil, .some(let l)):
            if let key = options.setNames.first { throw root.fail("'\(key)' applies to a 'model', not to 'layers'") }
            if l.isEmpty { throw root.fail("'layers' is empty") }
        case (.some(let m), nil):
            guard ModelZoo.names.contains(m) else {
                throw root.fail("unknown model '\(m)'; known: \(ModelZoo.names.joined(separator: ", "))")
            }
        }
    }

    /// Builds the model the spec describes.
    public func layer() throws -> any Layer {
        if let model { return try ModelZoo.layer(model, channels: channels, classes: classes ?? 2, options: options) }
        return SpecLayers(layers: layers ?? [], classes: classes ?? 2, path: "layers")
    }
}

/// One entry of a spec's `layers`.
public indirect enum LayerSpec: Sendable, Hashable {
    /// `out == nil` only with `depthwise` (out = in); `padding == nil` means "same" (kernel / 2, stride 1).
    case conv(out: Int?, kernel: Int, stride: Int, padding: Int?, groups: Int, depthwise: Bool, bias: Bool)
    case batchNorm
    case relu
    case relu6
    case maxPool(kernel: Int, stride: Int?, padding: Int)
    case avgPool(kernel: Int, stride: Int?, padding: Int)
    case globalAvgPool
    case flatten
    case dropout(Float)
    /// `out == nil` means the spec's `classes`.
    case linear(out: Int?, bias: Bool)
    case resize(Int)
    case residual([LayerSpec])

    public static let kinds = ["conv", "bn", "relu", "relu6", "maxpool", "avgpool", "gap", "flatten", "dropout", "linear",
                               "resize", "residual"]

    init(_ r: SpecReader) throws {
        let kind: String
        let arg: SpecReader?
        if case .string(let s) = r.value {
            (kind, arg) = (s, nil)
        } else {
            let entries = try r.object(allowed: nil)
            guard entries.keys.count == 1, let k = entries.keys.first else {
                throw r.fail("a layer is a kind name or a one-key mapping {kind: options}; got keys \(entries.keys)")
            }
            (kind, arg) = (k, entries[k])
        }
        func options(_ allowed: [String]) throws -> SpecEntries {
            guard let arg, arg.value != .null else { return SpecEntries(keys: [], values: [:], reader: r) }
            return try arg.object(allowed: allowed)
        }
        func noArgument() throws {
            if let arg, arg.value != .null, arg.value != .object([]) { throw arg.fail("'\(kind)' takes no options") }
        }
        switch kind {
        case "conv":
            let o = try options(["out", "kernel", "stride", "padding", "groups", "depthwise", "bias"])
            let depthwise = try o["depthwise"]?.bool() ?? false
            guard let kernel = try o["kernel"]?.int(min: 1) else { throw o.reader.fail("conv needs 'kernel'") }
            let out = try o["out"]?.int(min: 1)
            if out == nil && !depthwise { throw o.reader.fail("conv needs 'out' (or depthwise: true)") }
            let stride = try o["stride"]?.int(min: 1) ?? 1
            var padding: Int? = 0
            if let p = o["padding"] {
                if case .string("same") = p.value {
                    guard stride == 1 else { throw p.fail("padding 'same' needs stride 1 (as in PyTorch)") }
                    guard kernel % 2 == 1 else { throw p.fail("padding 'same' needs an odd kernel") }
                    padding = nil
                } else {
                    padding = try p.int(min: 0)
                }
            }
            let groups = try o["groups"]?.int(min: 1) ?? 1
            if depthwise && o["groups"] != nil { throw o.reader.fail("give either 'groups' or 'depthwise', not both") }
            self = .conv(out: out, kernel: kernel, stride: stride, padding: padding, groups: groups, depthwise: depthwise,
                         bias: try o["bias"]?.bool() ?? true)
        case "bn", "batchnorm": try noArgument(); self = .batchNorm
        case "relu": try noArgument(); self = .relu
        case "relu6": try noArgument(); self = .relu6
        case "maxpool", "avgpool":
            let o = try options(["kernel", "stride", "padding"])
            guard let kernel = try o["kernel"]?.int(min: 1) else { throw o.reader.fail("\(kind) needs 'kernel'") }
            let stride = try o["stride"]?.int(min: 1), padding = try o["padding"]?.int(min: 0) ?? 0
            self = kind == "maxpool" ? .maxPool(kernel: kernel, stride: stride, padding: padding)
                : .avgPool(kernel: kernel, stride: stride, padding: padding)
        case "gap", "global_avg_pool": try noArgument(); self = .globalAvgPool
        case "flatten": try noArgument(); self = .flatten
        case "dropout":
            let p: Double
            if let arg, case .object = arg.value {
                let o = try arg.object(allowed: ["p"])
                p = try o["p"]?.double() ?? 0.5
            } else {
                p = try arg?.double() ?? 0.5
            }
            guard p >= 0, p < 1 else { throw (arg ?? r).fail("dropout p must be in [0, 1), got \(p)") }
            self = .dropout(Float(p))
        case "linear":
            let o = try options(["out", "bias"])
            self = .linear(out: try o["out"]?.int(min: 1), bias: try o["bias"]?.bool() ?? true)
        case "resize":
            guard let arg else { throw r.fail("resize needs a size") }
            if case .object = arg.value {
                let o = try arg.object(allowed: ["size"])
                guard let s = try o["size"]?.int(min: 1) else { throw arg.fail("resize needs 'size'") }
                self = .resize(s)
            } else {
                self = .resize(try arg.int(min: 1))
            }
        case "residual":
            guard let arg else { throw r.fail("residual needs a list of layers") }
            let body = try arg.array().map(LayerSpec.init)
            guard !body.isEmpty else { throw arg.fail("residual needs at least one layer") }
            self = .residual(body)
        default:
            throw r.fail("unknown layer kind '\(kind)'; known: \(Self.kinds.joined(separator: ", "))")
        }
    }
}

/// The layers of a spec, applied in order, each scoped by its index like `nn.Sequential`.
struct SpecLayers: Layer {
    let layers: [LayerSpec]
    let classes: Int
    let path: String

    func callAsFunction(_ input: Value) throws -> Value {
        var x = input
        for (i, spec) in layers.enumerated() {
            let here = "\(path)[\(i)]"
            x = try x.graphBuilder.scoped(String(i)) { try apply(spec, x, here) }
        }
        return x
    }

    private func apply(_ spec: LayerSpec, _ x: Value, _ here: String) throws -> Value {
        func fail(_ m: String) -> EngineError { .invalid("model spec \(here)", m) }
        func needsMaps() throws -> Int {
            guard x.shape.count == 4 else { throw fail("needs a 4-D input [N, C, H, W], got \(describe(x.shape))") }
            return x.shape[1]
        }
        switch spec {
        case .conv(let out, let kernel, let stride, let padding, let groups, let depthwise, let bias):
            let c = try needsMaps()
            let o = out ?? c
            let g = depthwise ? c : groups
            if depthwise && o % c != 0 { throw fail("a depthwise conv needs out a multiple of its \(c) input channels, got \(o)") }
            guard c % g == 0, o % g == 0 else { throw fail("groups \(g) must divide in \(c) and out \(o) channels") }
            let config = Conv2dConfig(c, o, kernel: kernel, stride: stride, padding: padding ?? kernel / 2, groups: g, bias: bias)
            return try Conv2d(config)(x)
        case .batchNorm: return try BatchNorm2d(try needsMaps())(x)
        case .relu: return try x.relu()
        case .relu6: return try x.relu6()
        case .maxPool(let k, let s, let p):
            _ = try needsMaps()
            return try x.maxPool2d(Pool2dAttributes(kernel: Pair(k), stride: s.map { Pair($0) }, padding: Pair(p)))
        case .avgPool(let k, let s, let p):
            _ = try needsMaps()
            return try x.avgPool2d(Pool2dAttributes(kernel: Pair(k), stride: s.map { Pair($0) }, padding: Pair(p)))
        case .globalAvgPool: _ = try needsMaps(); return try x.globalAvgPool()
        case .flatten: return try x.flatten(startDim: 1)
        case .dropout(let p): return try x.dropout(p: p)
        case .linear(let out, let bias):
            guard x.shape.count == 2 else {
                throw fail("linear needs a flat input [N, features], got \(describe(x.shape)); add 'flatten' (after 'gap') before it")
            }
            return try Linear(x.shape[1], out ?? classes, bias: bias)(x)
        case .resize(let size):
            _ = try needsMaps()
            return try x.resizeBilinear(height: size, width: size)
        case .residual(let body):
            let y = try SpecLayers(layers: body, classes: classes, path: here + ".residual")(x)
            guard y.shape == x.shape else {
                throw fail("the residual body maps \(describe(x.shape)) to \(describe(y.shape)); it must keep the shape")
            }
            return try y + x
        }
    }
}

// MARK: reading parsed values

/// A mapping's entries by key, with the reader for error messages.
struct SpecEntries {
    var keys: [String]
    var values: [String: SpecReader]
    var reader: SpecReader
    subscript(key: String) -> SpecReader? { values[key] }
}

/// A value at a path of the spec, with typed accessors that fail with the path.
struct SpecReader {
    var value: SpecValue
    var path: String
    var source: String

    func fail(_ message: String) -> ModelSpec.Error {
        ModelSpec.Error(source: source, message: path.isEmpty ? message : "\(path): \(message)")
    }

    private func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func object(allowed: [String]?) throws -> SpecEntries {
        guard case .object(let entries) = value else { throw fail("expected a mapping, got \(kind)") }
        var values: [String: SpecReader] = [:]
        for (k, v) in entries {
            if let allowed, !allowed.contains(k) {
                throw fail("unknown key '\(k)'; known: \(allowed.joined(separator: ", "))")
            }
            values[k] = SpecReader(value: v, path: child(k), source: source)
        }
        return SpecEntries(keys: entries.map(\.0), values: values, reader: self)
    }

    func array() throws -> [SpecReader] {
        guard case .array(let items) = value else { throw fail("expected a list, got \(kind)") }
        return items.enumerated().map { SpecReader(value: $1, path: "\(path)[\($0)]", source: source) }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw fail("expected a string, got \(kind)") }
        return s
    }

    func int(min: Int) throws -> Int {
        let i: Int
        switch value {
        case .int(let v): i = v
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: i = Int(d)
        default: throw fail("expected an integer, got \(kind)")
        }
        guard i >= min else { throw fail("must be at least \(min), got \(i)") }
        return i
    }

    func double() throws -> Double {
        switch value {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: throw fail("expected a number, got \(kind)")
        }
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("expected true or false, got \(kind)") }
        return b
    }

    private var kind: String {
        switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string(let s): "'\(s)'"
        case .array: "a list"
        case .object: "a mapping"
        }
    }
}

extension SpecValue: Decodable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(try c.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                ($0.stringValue, try c.decode(SpecValue.self, forKey: $0))
            })
        } else if var u = try? decoder.unkeyedContainer() {
            var items: [SpecValue] = []
            while !u.isAtEnd { items.append(try u.decode(SpecValue.self)) }
            self = .array(items)
        } else {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let i = try? c.decode(Int.self) { self = .int(i) }
            else if let d = try? c.decode(Double.self) { self = .double(d) }
            else { self = .string(try c.decode(String.self)) }
        }
    }
}
