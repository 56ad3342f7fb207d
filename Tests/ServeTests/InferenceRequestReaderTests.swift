import Foundation
import GraphCore
import NIOCore
import Testing
@testable import Serve

/// The hand-written request reader against `JSONDecoder` and the `Decodable` types (the reference): the same request
/// from every valid body, a refusal for every body `JSONDecoder` refuses, and the message a client sees for each.
@Suite("Serving: request reader") struct InferenceRequestReaderTests {
    static func read(_ body: String) throws(JSONCursor.Failure) -> InferenceRequest {
        try read(Array(body.utf8))
    }

    static func read(_ bytes: [UInt8]) throws(JSONCursor.Failure) -> InferenceRequest {
        do {
            return try bytes.withUnsafeBytes { raw in try InferenceRequestReader.read(raw) }
        } catch let f as JSONCursor.Failure { throw f } catch { fatalError("untyped \(error)") }
    }

    static func reference(_ body: String) throws -> InferenceRequest {
        try JSONDecoder().decode(InferenceRequest.self, from: Data(body.utf8))
    }

    /// Field by field, tensor values bit for bit (so that -0 and 0 differ).
    static func expectEqual(_ a: InferenceRequest, _ b: InferenceRequest, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.id == b.id && a.parameters == b.parameters && a.inputs.count == b.inputs.count, "\(body)", sourceLocation: sourceLocation)
        for (x, y) in zip(a.inputs, b.inputs) {
            #expect(x.name == y.name && x.shape == y.shape && x.datatype == y.datatype && x.parameters == y.parameters, "\(body)", sourceLocation: sourceLocation)
            #expect(x.data?.values.map(\.bitPattern) == y.data?.values.map(\.bitPattern), "\(body)", sourceLocation: sourceLocation)
        }
        #expect(a.outputs?.map(\.name) == b.outputs?.map(\.name) && a.outputs?.map(\.parameters) == b.outputs?.map(\.parameters),
                "\(body)", sourceLocation: sourceLocation)
    }

    static let validBodies: [String] = {
        let values = testImages(2, seed: 3).contiguous().scalars
        let flat = "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
        let nested = "[[" + values[..<784].map { "\($0)" }.joined(separator: ", ") + "],\n [" + values[784...].map { "\($0)" }.joined(separator: " , ") + "]]"
        return [
            "{\"inputs\":[{\"name\":\"image\",\"shape\":[2,1,28,28],\"datatype\":\"FP32\",\"data\":\(flat)}]}",
            " \n{ \"id\" : \"req-7\" , \"inputs\" : [ { \"data\" : \(nested), \"datatype\" : \"FP32\", \"shape\" : [ 2 , 1 , 28 , 28 ], \"name\" : \"image\" } ] }\t\r\n",
            // Every number spelling, -0, subnormals, integers, exponents; deep nesting within the limit.
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[9],\"datatype\":\"FP32\",\"data\":[[[[[[[[-0]]]]]]],0,1e-45,-1.17549435E-38,3,-12,2.5e+3,1E2,0.30000000000000004]}]}",
            // Escapes and Unicode in strings, parameters of each kind, outputs, unknown fields of every kind, nulls.
            "{\"id\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 é 😀\",\"parameters\":{\"binary_data_output\":true,\"n\":-2.5e1,\"s\":\"x\"},"
                + "\"inputs\":[{\"name\":\"image\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],\"parameters\":{\"k\":false}}],"
                + "\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}},{\"name\":\"other\"}],"
                + "\"extra\":{\"a\":[1,{\"b\":null},[],{}],\"c\":true,\"d\":\"\\u0000\"},\"more\":[[[\"x\"]]]}",
            "{\"id\":null,\"parameters\":null,\"outputs\":null,\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":null,"
                + "\"parameters\":{\"binary_data_size\":3136}}]}",
            "{\"inputs\":[]}",
            "{\"inputs\":[{\"name\":\"\",\"shape\":[],\"datatype\":\"\",\"data\":[]}],\"outputs\":[]}",
        ]
    }()

    @Test func validBodiesReadAsJSONDecoderReadsThem() throws {
        for body in Self.validBodies {
            Self.expectEqual(try Self.read(body), try Self.reference(body), String(body.prefix(100)))
        }
    }

    /// Bodies that are not JSON, or not a request: `JSONDecoder` refuses each, and so does the reader, with this message.
    static let malformed: [(String, String)] = [
        ("", "the body is not valid JSON"),
        ("{\"inputs\": [", "the body is not valid JSON"),
        ("{\"inputs\":[]} x", "the body is not valid JSON"),
        ("{'inputs':[]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[01]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[.5]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1.]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[+1]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[NaN]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[Infinity]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1 2]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[tru]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\tb\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\\x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\\u12\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]]}", "the body is not valid JSON"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]", "the body is not valid JSON"),
        ("{\"x\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + ",\"inputs\":[]}",
         "the body nests arrays or objects deeper than 512 levels"),
        ("[]", "the body is not a JSON object"),
        ("{}", "missing field 'inputs'"),
        ("{\"inputs\":{}}", "field 'inputs' has the wrong type (expected an array of tensors)"),
        ("{\"inputs\":[7]}", "field 'inputs[0]' has the wrong type (expected an object)"),
        ("{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "missing field 'inputs[0].name'"),
        ("{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"data\":[1]}]}", "missing field 'inputs[0].shape'"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"data\":[1]}]}", "missing field 'inputs[0].datatype'"),
        ("{\"inputs\":[{\"name\":3,\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "field 'inputs[0].name' has the wrong type (expected a string)"),
        ("{\"inputs\":[{\"name\":null,\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "field 'inputs[0].name' has the wrong type (expected a string)"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":\"1\",\"datatype\":\"FP32\",\"data\":[1]}]}",
         "field 'inputs[0].shape' has the wrong type (expected an array of integers)"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1.5],\"datatype\":\"FP32\",\"data\":[1]}]}", "field 'inputs[0].shape[0]' has the wrong type (expected an integer)"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[\"1\"],\"datatype\":\"FP32\",\"data\":[1]}]}", "field 'inputs[0].shape[0]' has the wrong type (expected an integer)"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":5}]}", "field 'inputs[0].data' has the wrong type (expected an array of numbers)"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[\"1\"]}]}", "field 'inputs[0].data': element 0 of data is not a number"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,null]}]}", "field 'inputs[0].data': element 1 of data is not a number"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[[1],{}]}]}", "field 'inputs[0].data': element 1 of data is not a number"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[[[[[[[[[1]]]]]]]]]}]}",
         "field 'inputs[0].data': data is nested deeper than 8 levels"),
        ("{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"parameters\":{\"p\":[1]}}]}",
         "field 'inputs[0].parameters.p' has the wrong type (expected a string, number or boolean)"),
        ("{\"inputs\":[],\"outputs\":[{\"parameters\":{}}]}", "missing field 'outputs[0].name'"),
        ("{\"inputs\":[],\"id\":5}", "field 'id' has the wrong type (expected a string)"),
    ]

    @Test func malformedBodiesAreRefusedAsJSONDecoderRefusesThem() {
        for (body, message) in Self.malformed {
            #expect(throws: (any Error).self, "JSONDecoder accepts \(body.prefix(100))") { try Self.reference(body) }
            #expect(throws: JSONCursor.Failure.self, "\(body.prefix(100))") { try Self.read(body) }
            do {
                _ = try Self.read(body)
            } catch let failure as JSONCursor.Failure {
                #expect(failure.message == message, "\(body.prefix(100))")
            } catch {}
        }
    }

    /// Trailing commas, which `JSONDecoder` lets through and RFC 8259 does not: the reader refuses them.
    @Test(arguments: ["{\"inputs\":[],}", "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,],\"datatype\":\"FP32\",\"data\":[1]}]}",
                      "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,2,]}]}"])
    func trailingCommasAreRefused(body: String) {
        #expect(throws: JSONCursor.Failure.syntax) { try Self.read(body) }
    }

    /// What `JSONDecoder` also refuses: bytes that are not UTF-8 in a string, and a lone surrogate escape.
    @Test func stringsMustBeUnicode() {
        let prefix = Array("{\"inputs\":[],\"id\":\"".utf8), suffix = Array("\"}".utf8)
        for bad: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], Array("\\ud800".utf8), Array("\\udc00x".utf8), Array("\\ud800\\u0041".utf8)] {
            #expect(throws: JSONCursor.Failure.syntax, "\(bad)") { try Self.read(prefix + bad + suffix) }
        }
        #expect((try? Self.read(prefix + [0xC3, 0xA9] + suffix))?.id == "é")
    }
}
