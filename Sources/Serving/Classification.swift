/// One image's verdict: calibrated P(pneumonia), and the label at `threshold` ("pneumonia" when P ≥ threshold).
public struct Classification: Sendable, Equatable, Codable {
    public enum Label: String, Sendable, Codable {
        case normal, pneumonia
    }

    public let probability: Double
    public let label: Label
    public let threshold: Double

    public init(probability: Double, threshold: Double) {
        self.probability = probability
        self.label = probability >= threshold ? .pneumonia : .normal
        self.threshold = threshold
    }
}

/// PNG or JPEG bytes as they arrive (an upload, a request body), with a name for messages.
public struct EncodedImage: Sendable, Equatable {
    public let data: [UInt8]
    public let name: String

    public init(_ data: some Sequence<UInt8>, name: String = "image") {
        self.data = Array(data); self.name = name
    }
}
