import Foundation
import Testing
@testable import CPUBackend
@testable import Models
import NN
import TestSupport

// Fixtures of the model-family tests, written by scripts/make_model_fixtures.py (torch + torchvision; the
// versions are recorded in each file), and a minimal safetensors reader for them.

func fixtureURL(_ name: String) -> URL { fixtureURL(name, in: .module) }

/// One model of Fixtures/models.json: PyTorch's counts for a family member with options.
struct ReferenceModel: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    /// A `ModelZoo` member (else a spec file in Fixtures/).
    var zoo: Bool
    var options: ModelOptions
    var channels: Int
    var parameters: Int
    var buffers: Int
    /// Per sample, keyed by input size ("28", "64").
    var macs: [String: Int]
    /// State-dict names and shapes, in PyTorch's order.
    var stateDict: [StateEntry]

    struct StateEntry: Decodable, Sendable, Equatable {
        var name: String
        var shape: [Int]
        init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            name = try c.decode(String.self)
            shape = try c.decode([Int].self)
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, zoo, options, channels, parameters, buffers, macs
        case stateDict = "state_dict"
    }

    var testDescription: String {
        let opts = options.setNames.isEmpty ? "" : " " + options.setNames.joined(separator: ",")
        return "\(name)\(opts) c\(channels)"
    }

    func layer() throws -> any Layer {
        if zoo { return try ModelZoo.layer(name, channels: channels, options: options) }
        return try ModelSpec.load(contentsOf: fixtureURL(name)).layer()
    }
}

struct ReferenceFile: Decodable {
    var generator: String
    var script: String
    var models: [ReferenceModel]
}

enum Fixtures {
    static let reference: ReferenceFile = {
        let data = try! Data(contentsOf: fixtureURL("models.json"))
        return try! JSONDecoder().decode(ReferenceFile.self, from: data)
    }()
}

/// The safetensors layout (8-byte little-endian header length, JSON header, raw data), F32 only: enough to
/// read the fixtures. The package's own reader is `NN.Safetensors`; this one is independent of it.
struct TestSafetensors {
    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let body = data.subdata(in: (8 + headerLength)..<data.count)
        for (name, value) in header {
            if name == "__metadata__" { metadata = value as! [String: String]; continue }
            let info = value as! [String: Any]
            precondition(info["dtype"] as? String == "F32", "\(name): only F32 fixtures")
            let shape = info["shape"] as! [Int]
            let offsets = info["data_offsets"] as! [Int]
            var scalars = [Float](repeating: 0, count: shape.reduce(1, *))
            precondition(offsets[1] - offsets[0] == scalars.count * 4, "\(name): size mismatch")
            _ = scalars.withUnsafeMutableBytes { dst in
                body.copyBytes(to: dst, from: offsets[0]..<offsets[1])  // the host is little-endian
            }
            tensors[name] = try Tensor(shape: shape, scalars: scalars)
        }
    }
}

/// The backends every forward test runs on (STYLE §7): the reference always, oneDNN where it starts.
let testBackends: [any Backend] = [ReferenceBackend()] + [(try? DNNLBackend()) as (any Backend)?].compactMap { $0 }
