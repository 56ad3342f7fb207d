import Foundation
import Models
import NN

/// What a checkpoint needs to rebuild its model: the zoo name and the input it was built for. Stored as
/// JSON in the safetensors metadata under `pneumo.model`, so `eval`, `profile` and `export` need only the file.
public struct ModelDescriptor: Codable, Sendable, Equatable {
    public var model: String
    public var input_size: Int
    public var channels: Int
    public var classes: Int

    public init(model: String, inputSize: Int, channels: Int, classes: Int = 2) {
        self.model = model; input_size = inputSize; self.channels = channels; self.classes = classes
    }

    public func layer() throws -> any Layer { try ModelZoo.layer(model, channels: channels, classes: classes) }

    public func inputShape(batch: Int) -> [Int] { [batch, channels, input_size, input_size] }

    /// The inference graph with freshly initialised parameters.
    public func graph(seed: UInt64 = 0) throws -> ModelGraph {
        try ModelGraph(try layer(), inputShape: inputShape(batch: 1), seed: seed)
    }
}
