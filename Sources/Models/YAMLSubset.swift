import Foundation

/// A JSON-shaped value: what a model spec file holds, whether written as JSON or YAML.
public indirect enum SpecValue: Sendable, Hashable, Encodable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([SpecValue])
    /// Keys in file order.
    case object([(String, SpecValue)])

    public static func == (a: SpecValue, b: SpecValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let v): h.combine(v)
        case .int(let v): h.combine(v)
        case .double(let v): h.combine(v)
        case .string(let v): h.combine(v)
        case .array(let v): h.combine(v)
        case .object(let v): for (k, x) in v { h.combine(k); h.combine(x) }
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .int(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .double(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .string(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .object(let entries):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in entries { try c.encode(v, forKey: Key(stringValue: k)) }
        }
    }
}

/// A reader for the small subset of YAML 1.2 that model spec files need, so that specs can be written in
/// YAML without a YAML library (and its build time):
///
/// - block mappings (`key: value`, `key:` followed by a more indented block) and block sequences
///   (`- item`, `- key: value` starting a mapping), indented with spaces;
/// - flow collections on one line: `[1, 2]`, `{out: 16, kernel: 3}`, nested;
/// - scalars: integers, floats, `true`/`false`, `null`/`~`, plain, `'single'` and `"double"` quoted strings;
/// - `#` comments and a leading `---`.
///
/// Anchors, tags, multi-line scalars, multiple documents and flow collections spanning lines are rejected
/// with an error naming the line, never misread.
public enum YAMLSubset {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let message: String
        public var description: String { "YAML line \(line): \(message)" }
    }

    private struct Line {
        var number: Int
        var indent: Int
        var text: String
    }

    public static func parse(_ source: String) throws -> SpecValue {
        var lines: [Line] = []
        for (i, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = i + 1
            var text = String(raw)
            if text.hasSuffix("\r") { text.removeLast() }
            let leading = text.prefix { $0 == " " || $0 == "\t" }
            if leading.contains("\t") { throw Error(line: number, message: "tabs are not allowed in indentation") }
            text = try stripComment(text, line: number)
            let content = text.drop { $0 == " " }
            if content.isEmpty { continue }
            if content.hasPrefix("---") && content.allSatisfy({ $0 == "-" }) {
                guard lines.isEmpty else { throw Error(line: number, message: "only one document per file is supported") }
                continue
            }
            if content == "..." { break }
            if let first = content.first, "&*!|>%@`".contains(first) {
                throw Error(line: number, message: "'\(first)' (anchors, aliases, tags, block scalars, directives) is not supported")
            }
            var trimmed = String(content)
            while trimmed.hasSuffix(" ") { trimmed.removeLast() }
            lines.append(Line(number: number, indent: leading.count, text: trimmed))
        }
        guard !lines.isEmpty else { return .null }
        var parser = Parser(lines: lines)
        let value = try parser.block(indent: lines[0].indent)
        if parser.index < lines.count {
            let l = lines[parser.index]
            throw Error(line: l.number, message: "unexpected indentation or content: '\(l.text)'")
        }
        return value
    }

    /// Removes a `#` comment (at the start, or after a space, outside quotes).
    private static func stripComment(_ text: String, line: Int) throws -> String {
        var quote: Character? = nil
        var previous: Character = " "
        var result = ""
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "#" && (previous == " " || previous == "\t") {
                break
            }
            result.append(ch)
            previous = ch
        }
        return result
    }

    private struct Parser {
        var lines: [Line]
        var index = 0

        mutating func block(indent: Int) throws -> SpecValue {
            let l = lines[index]
            if isSequenceItem(l.text) { return try sequence(indent: indent) }
            if splitKey(l.text) != nil { return try mapping(indent: indent) }
            // A lone scalar or flow collection as the whole block.
            index += 1
            return try Self.scalarOrFlow(l.text, line: l.number)
        }

        func isSequenceItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

        mutating func sequence(indent: Int) throws -> SpecValue {
            var items: [SpecValue] = []
            while index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
                let l = lines[index]
                let rest = l.text.dropFirst(1).drop { $0 == " " }
                if rest.isEmpty {
                    index += 1
                    guard index < lines.count, lines[index].indent > indent else { items.append(.null); continue }
                    items.append(try block(indent: lines[index].indent))
                } else {
                    // `- key: value …` or `- - x`: the rest is a nested block starting at its own column.
                    let column = indent + (l.text.count - rest.count)
                    lines[index] = Line(number: l.number, indent: column, text: String(rest))
                    if isSequenceItem(String(rest)) || splitKey(String(rest)) != nil {
                        items.append(try block(indent: column))
                    } else {
                        index += 1
                        items.append(try Self.scalarOrFlow(String(rest), line: l.number))
                    }
                }
            }
            return .array(items)
        }

        mutating func mapping(indent: Int) throws -> SpecValue {
            var entries: [(String, SpecValue)] = []
            while index < lines.count, lines[index].indent == indent, !isSequenceItem(lines[index].text) {
                let l = lines[index]
                guard let (key, value) = splitKey(l.text) else {
                    throw Error(line: l.number, message: "expected 'key: value', got '\(l.text)'")
                }
                let name = try Self.keyString(key, line: l.number)
                if entries.contains(where: { $0.0 == name }) { throw Error(line: l.number, message: "duplicate key '\(name)'") }
                index += 1
                if !value.isEmpty {
                    entries.append((name, try Self.scalarOrFlow(value, line: l.number)))
                } else if index < lines.count, lines[index].indent > indent {
                    entries.append((name, try block(indent: lines[index].indent)))
                } else if index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
                    entries.append((name, try sequence(indent: indent)))  // `key:` then `- item` at the same column
                } else {
                    entries.append((name, .null))
                }
            }
            if index < lines.count, lines[index].indent > indent {
                let l = lines[index]
                throw Error(line: l.number, message: "unexpected indentation: '\(l.text)'")
            }
            return .object(entries)
        }

        /// Splits `key: value` (or `key:`) at the first `: ` outside quotes and brackets.
        func splitKey(_ text: String) -> (String, String)? {
            var quote: Character? = nil
            var depth = 0
            let chars = Array(text)
            if let f = chars.first, f == "[" || f == "{" { return nil }
            for (i, ch) in chars.enumerated() {
                if let q = quote { if ch == q { quote = nil }; continue }
                switch ch {
                case "'", "\"": quote = ch
                case "[", "{": depth += 1
                case "]", "}": depth -= 1
                case ":" where depth == 0 && (i + 1 == chars.count || chars[i + 1] == " "):
                    let key = String(chars[..<i])
                    let value = String(chars[(i + 1)...]).drop { $0 == " " }
                    return key.isEmpty ? nil : (key, String(value))
                default: break
                }
            }
            return nil
        }

        static func keyString(_ key: String, line: Int) throws -> String {
            let v = try scalar(key.trimmingSpaces, line: line)
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: throw Error(line: line, message: "keys must be strings, got '\(key)'")
            }
        }

        static func scalarOrFlow(_ text: String, line: Int) throws -> SpecValue {
            guard let first = text.first, first == "[" || first == "{" else { return try scalar(text, line: line) }
            var flow = Flow(chars: Array(text), line: line)
            let value = try flow.value()
            flow.skipSpaces()
            guard flow.position == flow.chars.count else {
                throw Error(line: line, message: "unexpected text after a flow collection: '\(String(flow.chars[flow.position...]))'")
            }
            return value
        }

        static func scalar(_ text: String, line: Int) throws -> SpecValue {
            let t = text.trimmingSpaces
            if t.hasPrefix("\"") || t.hasPrefix("'") {
                let q = t.first!
                guard t.count >= 2, t.last == q else { throw Error(line: line, message: "unterminated quoted string \(t)") }
                let body = String(t.dropFirst().dropLast())
                if q == "'" { return .string(body.replacingOccurrences(of: "''", with: "'")) }
                return .string(try unescape(body, line: line))
            }
            switch t {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let i = Int(t) { return .int(i) }
            if t.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true, let d = Double(t) { return .double(d) }
            if let first = t.first, "&*!|>%@`".contains(first) {
                throw Error(line: line, message: "'\(first)' (anchors, aliases, tags, block scalars) is not supported")
            }
            return .string(t)
        }

        static func unescape(_ s: String, line: Int) throws -> String {
            var out = ""
            var escaped = false
            for ch in s {
                if escaped {
                    switch ch {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\", "\"", "/": out.append(ch)
                    default: throw Error(line: line, message: "unsupported escape \\\(ch)")
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    out.append(ch)
                }
            }
            return out
        }
    }

    /// Flow collections: `[a, b]`, `{k: v}`, nested, on one line.
    private struct Flow {
        let chars: [Character]
        let line: Int
        var position = 0

        mutating func skipSpaces() { while position < chars.count, chars[position] == " " { position += 1 } }

        mutating func value() throws -> SpecValue {
            skipSpaces()
            guard position < chars.count else { throw Error(line: line, message: "a flow collection must close on its line") }
            switch chars[position] {
            case "[":
                position += 1
                var items: [SpecValue] = []
                skipSpaces()
                if position < chars.count, chars[position] == "]" { position += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpaces()
                    guard position < chars.count else { throw Error(line: line, message: "'[' without ']' on its line") }
                    if chars[position] == "," { position += 1; continue }
                    if chars[position] == "]" { position += 1; return .array(items) }
                    throw Error(line: line, message: "expected ',' or ']' in a flow sequence")
                }
            case "{":
                position += 1
                var entries: [(String, SpecValue)] = []
                skipSpaces()
                if position < chars.count, chars[position] == "}" { position += 1; return .object(entries) }
                while true {
                    skipSpaces()
                    let keyText = scalarText(stops: ":")
                    guard position < chars.count, chars[position] == ":" else {
                        throw Error(line: line, message: "expected 'key: value' in a flow mapping")
                    }
                    position += 1
                    let key = try Parser.keyString(keyText, line: line)
                    if entries.contains(where: { $0.0 == key }) { throw Error(line: line, message: "duplicate key '\(key)'") }
                    entries.append((key, try value()))
                    skipSpaces()
                    guard position < chars.count else { throw Error(line: line, message: "'{' without '}' on its line") }
                    if chars[position] == "," { position += 1; continue }
                    if chars[position] == "}" { position += 1; return .object(entries) }
                    throw Error(line: line, message: "expected ',' or '}' in a flow mapping")
                }
            default:
                return try Parser.scalar(scalarText(stops: ",]}"), line: line)
            }
        }

        /// Text up to the next stop character outside quotes.
        mutating func scalarText(stops: String) -> String {
            var quote: Character? = nil
            var text = ""
            while position < chars.count {
                let ch = chars[position]
                if let q = quote {
                    if ch == q { quote = nil }
                } else if ch == "'" || ch == "\"" {
                    quote = ch
                } else if stops.contains(ch) {
                    break
                }
                text.append(ch)
                position += 1
            }
            return text
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
