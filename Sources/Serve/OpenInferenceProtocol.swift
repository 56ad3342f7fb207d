/// The JSON bodies of the Open Inference Protocol (KServe v2) over HTTP/REST, with the protocol's field names:
/// https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md

/// `GET /v2`.
public struct ServerMetadataResponse: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var extensions: [String]
}

/// A tensor's name, element type and shape (`-1` for a dimension of any size).
public struct TensorMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int]
}

/// `GET /v2/models/NAME[/versions/VERSION]`.
public struct ModelMetadataResponse: Codable, Sendable, Equatable {
    public var name: String
    public var versions: [String]
    public var platform: String
    public var inputs: [TensorMetadata]
    public var outputs: [TensorMetadata]
}

/// One input tensor of `POST /v2/models/NAME/infer`: `data` row-major, flat or nested as the shape.
public struct RequestInput: Decodable, Sendable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    public var parameters: [String: ParameterValue]?
    /// Absent when the tensor travels as binary after the JSON (`parameters.binary_data_size`).
    public var data: TensorData?
}

/// An output the client asks for by name (all outputs when the request names none).
public struct RequestOutput: Decodable, Sendable {
    public var name: String
    public var parameters: [String: ParameterValue]?
}

/// `POST /v2/models/NAME[/versions/VERSION]/infer`.
public struct InferenceRequest: Decodable, Sendable {
    public var id: String?
    public var parameters: [String: ParameterValue]?
    public var inputs: [RequestInput]
    public var outputs: [RequestOutput]?
}

public struct ResponseOutput: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    /// `binary_data_size` when the data follows the JSON as binary (the binary tensor data extension).
    public var parameters: [String: Int]?
    /// Absent when the data is sent as binary.
    public var data: [Float]?
}

public struct InferenceResponse: Codable, Sendable, Equatable {
    public var model_name: String
    public var model_version: String?
    public var id: String?
    public var outputs: [ResponseOutput]
}

/// The protocol's error body: `{"error": "<message>"}`.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public var error: String
}

/// A value of a request's `parameters` object: the protocol allows strings, numbers and booleans.
public enum ParameterValue: Decodable, Sendable, Equatable {
    case bool(Bool), number(Double), string(String)

    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var int: Int? { if case .number(let n) = self, n >= 0, n == n.rounded(), n < 1e15 { Int(n) } else { nil } }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { throw DecodingError.typeMismatch(ParameterValue.self, .init(codingPath: c.codingPath, debugDescription: "a parameter must be a string, number or boolean")) }
    }
}
