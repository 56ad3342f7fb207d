import NN

/// The named model configurations the command-line tool accepts.
public enum ModelZoo {
    public static let names = ["baseline", "resnet18"]

    /// Builds the layer for `name` at `inputSize` pixels with `channels` input channels.
    public static func layer(_ name: String, channels: Int = 3, classes: Int = 2) throws -> any Layer {
        switch name {
        case "baseline": ResNet18(inChannels: channels, classes: classes, upsampleTo: 224)
        case "resnet18": ResNet18(inChannels: channels, classes: classes)
        default:
            throw EngineError.invalid("model", "unknown model '\(name)'; known: \(names.joined(separator: ", "))")
        }
    }
}
