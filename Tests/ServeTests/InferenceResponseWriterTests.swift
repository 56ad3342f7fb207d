import Foundation
import GraphCore
import NIOCore
import Testing
@testable import Serve

/// The hand-written response JSON against `JSONDecoder` (the reference reader): every field back as written, floats
/// bit for bit, strings with every character JSON must escape.
@Suite("Serving: response writer") struct InferenceResponseWriterTests {
    static func written(_ response: InferenceResponse) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try InferenceResponseWriter.write(response, into: &buffer)
        return buffer
    }

    @Test func readsBackExactly() throws {
        var rng = SeededRandom(seed: 5)
        var values: [Float] = [0, -0.0, 1, -1, 3, 0.1, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, 1e-40, 16_777_217]
        for _ in 0..<2000 {
            let v = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            if v.isFinite { values.append(v) }
        }
        let awkward = "q\"b\\s/\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}é😀\u{7f}"
        for (id, version, parameters) in [(String?.none, String?.none, [String: Int]?.none), ("req-1", "1", ["binary_data_size": 8]),
                                          (awkward, awkward, ["b": 1, "a": 2])] {
            let response = InferenceResponse(model_name: awkward, model_version: version, id: id, outputs: [
                ResponseOutput(name: "logits", shape: [values.count / 2, 2], datatype: "FP32", parameters: parameters, data: Array(values.prefix(values.count / 2 * 2))),
                ResponseOutput(name: awkward, shape: [], datatype: "FP32", parameters: nil, data: nil),
            ])
            let back = try JSONDecoder().decode(InferenceResponse.self, from: Data(buffer: try Self.written(response)))
            #expect(back.model_name == response.model_name && back.model_version == response.model_version && back.id == response.id)
            #expect(back.outputs.map(\.name) == response.outputs.map(\.name) && back.outputs.map(\.shape) == response.outputs.map(\.shape)
                    && back.outputs.map(\.datatype) == response.outputs.map(\.datatype) && back.outputs.map(\.parameters) == response.outputs.map(\.parameters))
            #expect(back.outputs.map { $0.data?.map(\.bitPattern) } == response.outputs.map { $0.data?.map(\.bitPattern) })
        }
        // The numbers' text itself, read with strtof (`Float(String)`), is each value exactly.
        let text = String(buffer: try Self.written(InferenceResponse(model_name: "m", model_version: nil, id: nil, outputs: [
            ResponseOutput(name: "o", shape: [values.count], datatype: "FP32", parameters: nil, data: values)])))
        let data = text[text.range(of: "\"data\":[")!.upperBound...].dropLast(4)   // `]}]}`
        #expect(data.split(separator: ",").map { Float(String($0))!.bitPattern } == values.map(\.bitPattern))
    }

    @Test func nonFiniteOutputsAreRefused() {
        for v: Float in [.nan, .infinity, -.infinity] {
            let response = InferenceResponse(model_name: "m", model_version: "1", id: nil,
                                             outputs: [ResponseOutput(name: "logits", shape: [1, 2], datatype: "FP32", parameters: nil, data: [0, v])])
            #expect(throws: ServeError(.internalServerError, "output 'logits' value 1 is \(v), which JSON cannot carry")) { try Self.written(response) }
        }
    }
}
