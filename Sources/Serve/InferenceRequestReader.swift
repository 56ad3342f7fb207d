/// `POST …/infer` bodies read straight from the request's bytes with `JSONCursor`: the same `InferenceRequest` that
/// `JSONDecoder` makes of them (the `Decodable` conformances stay as the reference the tests compare with), with the
/// tensor's numbers parsed in place by `JSONNumberParser` instead of one `Decodable` call each. Unknown fields are
/// skipped, as `JSONDecoder` skips them; `null` is an absent optional field.
enum InferenceRequestReader {
    typealias Failure = JSONCursor.Failure

    static func read(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> InferenceRequest {
        var c = JSONCursor(bytes)
        guard try c.peek() == UInt8(ascii: "{") else { try c.skipValue(); try c.end(); throw .wrongType(path: "", expected: "a JSON object") }
        var id: String?, parameters: [String: ParameterValue]?, inputs: [RequestInput]?, outputs: [RequestOutput]?
        try c.object { (c, key) throws(Failure) in
            switch key {
            case "id": id = try optionalString(&c, key)
            case "parameters": parameters = try self.parameters(&c, key)
            case "inputs":
                guard try c.peek() == UInt8(ascii: "[") else { throw .wrongType(path: key, expected: "an array of tensors") }
                var list: [RequestInput] = []
                try c.array { (c, i) throws(Failure) in list.append(try input(&c, "inputs[\(i)]")) }
                inputs = list
            case "outputs":
                if try c.null() { outputs = nil; return }
                guard try c.peek() == UInt8(ascii: "[") else { throw .wrongType(path: key, expected: "an array of outputs") }
                var list: [RequestOutput] = []
                try c.array { (c, i) throws(Failure) in list.append(try output(&c, "outputs[\(i)]")) }
                outputs = list
            default: try c.skipValue()
            }
        }
        try c.end()
        guard let inputs else { throw .missing(path: "inputs") }
        return InferenceRequest(id: id, parameters: parameters, inputs: inputs, outputs: outputs)
    }

    private static func input(_ c: inout JSONCursor, _ path: String) throws(Failure) -> RequestInput {
        guard try c.peek() == UInt8(ascii: "{") else { throw .wrongType(path: path, expected: "an object") }
        var name: String?, shape: [Int]?, datatype: String?, parameters: [String: ParameterValue]?, data: [Float]?
        try c.object { (c, key) throws(Failure) in
            switch key {
            case "name": name = try requiredString(&c, path + ".name")
            case "datatype": datatype = try requiredString(&c, path + ".datatype")
            case "parameters": parameters = try self.parameters(&c, path + ".parameters")
            case "shape":
                guard try c.peek() == UInt8(ascii: "[") else { throw .wrongType(path: path + ".shape", expected: "an array of integers") }
                var dims: [Int] = []
                try c.array { (c, i) throws(Failure) in dims.append(try c.integer("\(path).shape[\(i)]", expected: "an integer")) }
                shape = dims
            case "data":
                if try c.null() { data = nil; return }
                guard try c.peek() == UInt8(ascii: "[") else { throw .wrongType(path: path + ".data", expected: "an array of numbers") }
                var values: [Float] = []
                values.reserveCapacity(min(c.bytes.count / 2, 1 << 20))
                try flatten(&c, into: &values, path: path + ".data", depth: 1)
                data = values
            default: try c.skipValue()
            }
        }
        guard let name else { throw .missing(path: path + ".name") }
        guard let shape else { throw .missing(path: path + ".shape") }
        guard let datatype else { throw .missing(path: path + ".datatype") }
        return RequestInput(name: name, shape: shape, datatype: datatype, parameters: parameters, data: data.map(TensorData.init(values:)))
    }

    /// `data`'s numbers, flat or nested, row-major; as `TensorData` refuses them, with the same messages.
    private static func flatten(_ c: inout JSONCursor, into values: inout [Float], path: String, depth: Int) throws(Failure) {
        try c.array { (c, i) throws(Failure) in
            if let x = try c.float() { values.append(x); return }
            if try c.peek() == UInt8(ascii: "[") {
                guard depth < TensorData.maximumDepth else { throw .content(path: path, message: "data is nested deeper than \(TensorData.maximumDepth) levels") }
                try flatten(&c, into: &values, path: path, depth: depth + 1)
                return
            }
            try c.skipValue()   // a syntax error anywhere is the body's, as JSONDecoder reports it
            throw .content(path: path, message: "element \(i) of data is not a number")
        }
    }

    private static func output(_ c: inout JSONCursor, _ path: String) throws(Failure) -> RequestOutput {
        guard try c.peek() == UInt8(ascii: "{") else { throw .wrongType(path: path, expected: "an object") }
        var name: String?, parameters: [String: ParameterValue]?
        try c.object { (c, key) throws(Failure) in
            switch key {
            case "name": name = try requiredString(&c, path + ".name")
            case "parameters": parameters = try self.parameters(&c, path + ".parameters")
            default: try c.skipValue()
            }
        }
        guard let name else { throw .missing(path: path + ".name") }
        return RequestOutput(name: name, parameters: parameters)
    }

    /// A `parameters` object: strings, numbers and booleans, as `ParameterValue` takes them.
    private static func parameters(_ c: inout JSONCursor, _ path: String) throws(Failure) -> [String: ParameterValue]? {
        if try c.null() { return nil }
        guard try c.peek() == UInt8(ascii: "{") else { throw .wrongType(path: path, expected: "an object") }
        var values: [String: ParameterValue] = [:]
        try c.object { (c, key) throws(Failure) in
            if let b = try c.bool() { values[key] = .bool(b); return }
            switch try c.peek() {
            case UInt8(ascii: "\""): values[key] = .string(try c.string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): values[key] = .number(Double(try c.numberText())!)
            default:
                try c.skipValue()
                throw .wrongType(path: path + "." + key, expected: "a string, number or boolean")
            }
        }
        return values
    }

    private static func requiredString(_ c: inout JSONCursor, _ path: String) throws(Failure) -> String {
        guard try c.peek() == UInt8(ascii: "\"") else { throw .wrongType(path: path, expected: "a string") }
        return try c.string()
    }

    private static func optionalString(_ c: inout JSONCursor, _ path: String) throws(Failure) -> String? {
        if try c.null() { return nil }
        return try requiredString(&c, path)
    }
}
