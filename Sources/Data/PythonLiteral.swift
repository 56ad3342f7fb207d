/// The subset of Python literal syntax that .npy headers use: the header is `repr()` of a dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, and numpy itself reads it back with
/// `ast.literal_eval`, so we parse it as a literal rather than with pattern matching that would accept
/// headers numpy rejects (and reject ones it accepts, like a trailing comma or Python 2's `3L`).
indirect enum PythonLiteral: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case none
    case sequence([PythonLiteral])  // tuple or list
    case dict([(String, PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case (.none, .none): true
        case let (.sequence(x), .sequence(y)): x == y
        case let (.dict(x), .dict(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The literal as Python writes it, for messages (`(-2, 28)`, not Swift's `sequence([…])`).
    var python: String {
        switch self {
        case .string(let s): "'\(s)'"
        case .integer(let i): "\(i)"
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        case .sequence(let items): items.count == 1 ? "(\(items[0].python),)" : "(" + items.map(\.python).joined(separator: ", ") + ")"
        case .dict(let entries): "{" + entries.map { "'\($0.0)': \($0.1.python)" }.joined(separator: ", ") + "}"
        }
    }

    struct SyntaxError: Error {
        let message: String
    }

    /// Parses one literal that must span the whole text (trailing whitespace allowed).
    static func parse(_ text: String) throws(SyntaxError) -> PythonLiteral {
        var parser = Parser(chars: Array(text.unicodeScalars), position: 0)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == parser.chars.count else {
            throw SyntaxError(message: "unexpected text after the literal at offset \(parser.position)")
        }
        return value
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var position: Int

        /// Nesting bound, so that a hostile header of a million `(` cannot overflow the stack.
        static let maxDepth = 32

        mutating func skipSpace() {
            while position < chars.count, chars[position].properties.isWhitespace { position += 1 }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> PythonLiteral {
            guard depth < Self.maxDepth else { throw SyntaxError(message: "nesting deeper than \(Self.maxDepth)") }
            skipSpace()
            guard position < chars.count else { throw SyntaxError(message: "unexpected end of header") }
            switch chars[position] {
            case "'", "\"": return .string(try string())
            case "(": return .sequence(try items(close: ")", depth: depth))
            case "[": return .sequence(try items(close: "]", depth: depth))
            case "{": return try dict(depth: depth)
            case "-", "0"..."9": return .integer(try integer())
            default:
                let word = identifier()
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                default: throw SyntaxError(message: "unexpected '\(word.isEmpty ? String(chars[position]) : word)' at offset \(position)")
                }
            }
        }

        mutating func identifier() -> String {
            var word = ""
            while position < chars.count, chars[position].properties.isAlphabetic || chars[position] == "_" {
                word.unicodeScalars.append(chars[position])
                position += 1
            }
            return word
        }

        mutating func string() throws(SyntaxError) -> String {
            let quote = chars[position]
            position += 1
            var result = ""
            while position < chars.count {
                let c = chars[position]
                position += 1
                if c == quote { return result }
                if c == "\\" {
                    guard position < chars.count else { break }
                    result.unicodeScalars.append(chars[position])
                    position += 1
                } else {
                    result.unicodeScalars.append(c)
                }
            }
            throw SyntaxError(message: "unterminated string")
        }

        mutating func integer() throws(SyntaxError) -> Int {
            let start = position
            var negative = false
            if chars[position] == "-" { negative = true; position += 1 }
            var value = 0
            var digits = 0
            while position < chars.count, ("0"..."9").contains(chars[position]) {
                let d = Int(chars[position].value - 48)
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { throw SyntaxError(message: "integer at offset \(start) does not fit in 64 bits") }
                value = s
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw SyntaxError(message: "expected digits at offset \(start)") }
            if position < chars.count, chars[position] == "L" { position += 1 }  // Python 2 long
            return negative ? -value : value
        }

        mutating func items(close: Unicode.Scalar, depth: Int) throws(SyntaxError) -> [PythonLiteral] {
            position += 1
            var result: [PythonLiteral] = []
            while true {
                skipSpace()
                guard position < chars.count else { throw SyntaxError(message: "unterminated sequence") }
                if chars[position] == close { position += 1; return result }
                result.append(try value(depth: depth + 1))
                skipSpace()
                guard position < chars.count else { throw SyntaxError(message: "unterminated sequence") }
                if chars[position] == "," { position += 1 } else if chars[position] != close {
                    throw SyntaxError(message: "expected ',' or '\(close)' at offset \(position)")
                }
            }
        }

        mutating func dict(depth: Int) throws(SyntaxError) -> PythonLiteral {
            position += 1
            var result: [(String, PythonLiteral)] = []
            while true {
                skipSpace()
                guard position < chars.count else { throw SyntaxError(message: "unterminated dict") }
                if chars[position] == "}" { position += 1; return .dict(result) }
                guard case .string(let key) = try value(depth: depth + 1) else {
                    throw SyntaxError(message: "dict keys must be strings")
                }
                skipSpace()
                guard position < chars.count, chars[position] == ":" else {
                    throw SyntaxError(message: "expected ':' after key '\(key)'")
                }
                position += 1
                result.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard position < chars.count else { throw SyntaxError(message: "unterminated dict") }
                if chars[position] == "," { position += 1 } else if chars[position] != "}" {
                    throw SyntaxError(message: "expected ',' or '}' at offset \(position)")
                }
            }
        }
    }
}
