import GraphCore
import Foundation

/// A node's attributes, each checked against the op's list and for its declared type.
struct Attributes {
    let ctx: String
    var map: [String: Onnx_AttributeProto] = [:]

    init(_ n: Onnx_NodeProto, allowed: Set<String>, _ ctx: String) throws {
        self.ctx = ctx
        for a in n.attribute {
            try checkFieldTypes(a, ctx)
            guard !a.name.isEmpty else { throw ONNXError(.malformed, ctx, "an attribute has no name") }
            guard map[a.name] == nil else { throw ONNXError(.malformed, ctx, "attribute '\(a.name)' given twice") }
            guard a.refAttrName.isEmpty else { throw ONNXError(.unsupported, ctx, "attribute '\(a.name)' refers to a function attribute") }
            guard allowed.contains(a.name) else {
                throw ONNXError(.unsupported, ctx, "attribute '\(a.name)' is not one of \(n.opType)'s\(allowed.isEmpty ? " (it has none)" : " (" + allowed.sorted().joined(separator: ", ") + ")")")
            }
            map[a.name] = a
        }
    }

    private func get(_ name: String, _ type: Onnx_AttributeProto.AttributeType) throws -> Onnx_AttributeProto? {
        guard let a = map[name] else { return nil }
        guard a.type == type else {
            throw ONNXError(.malformed, ctx, "attribute '\(name)' has type \(a.type), expected \(type)")
        }
        return a
    }

    func int64(_ name: String) throws -> Int64? { try get(name, .int)?.i }
    func int(_ name: String) throws -> Int? {
        guard let v = try int64(name) else { return nil }
        guard (-Int64(Int32.max)...Int64(Int32.max)).contains(v) else { throw ONNXError(.invalidGraph, ctx, "attribute '\(name)' = \(v) is out of range") }
        return Int(v)
    }
    func int64s(_ name: String) throws -> [Int64]? {
        guard let v = try get(name, .ints)?.ints else { return nil }
        guard v.count <= 64 else { throw ONNXError(.limit, ctx, "attribute '\(name)' has \(v.count) values") }
        return v
    }
    /// INTS with `count` entries (any count when nil), each within ±2³¹.
    func ints(_ name: String, count: Int?) throws -> [Int]? {
        guard let v = try int64s(name) else { return nil }
        if let count, v.count != count {
            throw ONNXError(.invalidGraph, ctx, "attribute '\(name)' has \(v.count) values; \(count) expected for a 2-D op on a rank-4 input")
        }
        return try v.map {
            guard (-Int64(Int32.max)...Int64(Int32.max)).contains($0) else { throw ONNXError(.invalidGraph, ctx, "attribute '\(name)' value \($0) is out of range") }
            return Int($0)
        }
    }
    /// A 2-value INTS (`strides`, `dilations`) within `range`, default 1.
    func pair(_ name: String, range: ClosedRange<Int>) throws -> Pair {
        guard let v = try ints(name, count: 2) else { return Pair(1) }
        guard v.allSatisfy(range.contains) else {
            throw ONNXError(.invalidGraph, ctx, "attribute '\(name)' \(v) must lie in \(range.lowerBound)…\(range.upperBound)")
        }
        return Pair(v[0], v[1])
    }
    func float(_ name: String) throws -> Float? {
        guard let v = try get(name, .float)?.f else { return nil }
        guard v.isFinite else { throw ONNXError(.invalidGraph, ctx, "attribute '\(name)' is \(v)") }
        return v
    }
    func floats(_ name: String) throws -> [Float]? {
        guard let v = try get(name, .floats)?.floats else { return nil }
        guard v.count <= 1 << 20 else { throw ONNXError(.limit, ctx, "attribute '\(name)' has \(v.count) values") }
        return v
    }
    func string(_ name: String) throws -> String? {
        guard let v = try get(name, .string)?.s else { return nil }
        guard let s = String(data: v, encoding: .utf8) else { throw ONNXError(.malformed, ctx, "attribute '\(name)' is not UTF-8") }
        return s
    }
    func tensor(_ name: String) throws -> Onnx_TensorProto? { try get(name, .tensor)?.t }
}
