/// A mapping's entries by key, with the reader for error messages.
struct SpecEntries {
    var keys: [String]
    var values: [String: SpecReader]
    var reader: SpecReader
    subscript(key: String) -> SpecReader? { values[key] }
}

/// A value at a path of the spec, with typed accessors that fail with the path.
struct SpecReader {
    var value: SpecValue
    var path: String
    var source: String

    func fail(_ message: String) -> ModelSpec.Error {
        ModelSpec.Error(source: source, message: path.isEmpty ? message : "\(path): \(message)")
    }

    private func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func object(allowed: [String]?) throws -> SpecEntries {
        guard case .object(let entries) = value else { throw fail("expected a mapping, got \(kind)") }
        var values: [String: SpecReader] = [:]
        for (k, v) in entries {
            if let allowed, !allowed.contains(k) {
                throw fail("unknown key '\(k)'; known: \(allowed.joined(separator: ", "))")
            }
            values[k] = SpecReader(value: v, path: child(k), source: source)
        }
        return SpecEntries(keys: entries.map(\.0), values: values, reader: self)
    }

    func array() throws -> [SpecReader] {
        guard case .array(let items) = value else { throw fail("expected a list, got \(kind)") }
        return items.enumerated().map { SpecReader(value: $1, path: "\(path)[\($0)]", source: source) }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw fail("expected a string, got \(kind)") }
        return s
    }

    func int(min: Int) throws -> Int {
        let i: Int
        switch value {
        case .int(let v): i = v
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: i = Int(d)
        default: throw fail("expected an integer, got \(kind)")
        }
        guard i >= min else { throw fail("must be at least \(min), got \(i)") }
        return i
    }

    func double() throws -> Double {
        switch value {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: throw fail("expected a number, got \(kind)")
        }
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("expected true or false, got \(kind)") }
        return b
    }

    private var kind: String {
        switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string(let s): "'\(s)'"
        case .array: "a list"
        case .object: "a mapping"
        }
    }
}

