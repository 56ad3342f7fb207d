import Foundation
import NN

/// A model variant defined without Swift, in a small declarative file (JSON, or YAML read by `SpecYAML`).
/// Two forms:
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
            do { value = try SpecYAML.parse(text) } catch let e as SpecYAML.Error {
                throw Error(source: source, message: e.description)
            }
        }
        return try ModelSpec(value, source: source)
    }

    static let optionKeys = ModelOptions.Name.allCases.map(\.rawValue)

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

