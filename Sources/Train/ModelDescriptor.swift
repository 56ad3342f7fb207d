import Foundation
import Models
import NN

/// What a checkpoint needs to rebuild its model: the zoo name, the options it was built with and the input
/// it was built for. Stored as JSON in the safetensors metadata under `pneumo.model` (and by `export` in
/// the ONNX metadata), so `eval`, `profile` and `export` need only the file.
///
/// `options` holds the options that were given (`{"width": 0.5}`), and is left out of the JSON when none
/// were: a file without it (every checkpoint written before options were stored) builds the defaults.
public struct ModelDescriptor: Codable, Sendable, Equatable {
    public var model: String
    public var input_size: Int
    public var channels: Int
    public var classes: Int
    public var options: ModelOptions

    public init(model: String, inputSize: Int, channels: Int, classes: Int = 2, options: ModelOptions = ModelOptions()) {
        self.model = model; input_size = inputSize; self.channels = channels; self.classes = classes; self.options = options
    }

    public func layer() throws -> any Layer { try ModelZoo.layer(model, channels: channels, classes: classes, options: options) }

    public func inputShape(batch: Int) -> [Int] { [batch, channels, input_size, input_size] }

    /// The inference graph with freshly initialised parameters.
    public func graph(seed: UInt64 = 0) throws -> ModelGraph {
        try ModelGraph(try layer(), inputShape: inputShape(batch: 1), seed: seed)
    }

    /// `model` with its options, as messages name it: `pneumonet` or `pneumonet (width 0.5, blocks 2)`.
    public var modelDescription: String {
        options.given.isEmpty ? model : "\(model) (\(options.description))"
    }

    private enum CodingKeys: String, CodingKey { case model, input_size, channels, classes, options }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        input_size = try c.decode(Int.self, forKey: .input_size)
        channels = try c.decode(Int.self, forKey: .channels)
        classes = try c.decode(Int.self, forKey: .classes)
        options = try c.decodeIfPresent(ModelOptions.self, forKey: .options) ?? ModelOptions()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(input_size, forKey: .input_size)
        try c.encode(channels, forKey: .channels)
        try c.encode(classes, forKey: .classes)
        if !options.given.isEmpty { try c.encode(options, forKey: .options) }
    }
}
