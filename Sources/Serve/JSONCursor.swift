/// A strict JSON (RFC 8259) reader over raw bytes, one value at a time, for the request reader: it refuses what
/// `JSONDecoder` refuses, and trailing commas too (which `JSONDecoder` lets through), without building a tree or
/// boxing each number.
struct JSONCursor {
    /// Where a body failed: its syntax, or a field's type or content (`path` as `inputs[0].data`).
    enum Failure: Error, Equatable {
        case syntax
        case tooDeep
        case missing(path: String)
        case wrongType(path: String, expected: String)
        case content(path: String, message: String)

        var message: String {
            switch self {
            case .syntax: "the body is not valid JSON"
            case .tooDeep: "the body nests arrays or objects deeper than \(JSONCursor.maximumDepth) levels"
            case .missing(let path): "missing field '\(path)'"
            case .wrongType("", let expected): "the body is not \(expected)"
            case .wrongType(let path, let expected): "field '\(path)' has the wrong type (expected \(expected))"
            case .content(let path, let message): "field '\(path)': \(message)"
            }
        }
    }

    /// Nesting beyond which a body is refused before it can exhaust the stack.
    static let maximumDepth = 512

    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next byte after whitespace, not consumed; a syntax error at the end of the body.
    @inline(__always)
    mutating func peek() throws(Failure) -> UInt8 {
        while index < bytes.count {
            let b = bytes[index]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return b }
            index += 1
        }
        throw .syntax
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8) throws(Failure) {
        guard try peek() == byte else { throw .syntax }
        index += 1
    }

    /// Consumes `null` if it is next.
    mutating func null() throws(Failure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Only whitespace may follow the body's value.
    mutating func end() throws(Failure) {
        guard (try? peek()) == nil else { throw .syntax }
    }

    /// An object's members, each key handed to `member`, which must consume the value.
    mutating func object(_ member: (inout JSONCursor, String) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw .syntax }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            default: throw .syntax
            }
        }
    }

    /// An array's elements, each handed to `element` with its index, which must consume it.
    mutating func array(_ element: (inout JSONCursor, Int) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") { index += 1; return }
        var i = 0
        while true {
            try element(&self, i)
            i += 1
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
                if try peek() == UInt8(ascii: "]") { throw .syntax }   // a trailing comma
            case UInt8(ascii: "]"): index += 1; return
            default: throw .syntax
            }
        }
    }

    /// A string's value, escapes decoded; its bytes must be UTF-8.
    mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                defer { index += 1 }
                guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else { throw .syntax }
                return s
            }
            if b == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard b >= 0x20 else { throw .syntax }
            index += 1
        }
        throw .syntax
    }

    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: utf8, as: UTF8.self) else { throw .syntax }
                return s
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw .syntax }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw .syntax }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw .syntax }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw .syntax }
                    utf8.append(contentsOf: String(Character(u)).utf8)
                default: throw .syntax
                }
            default:
                guard b >= 0x20 else { throw .syntax }
                utf8.append(b)
            }
        }
        throw .syntax
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .syntax }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw .syntax
            }
            v = v << 4 | UInt32(d)
            index += 1
        }
        return v
    }

    /// The text of the number next (JSON's grammar), consumed.
    mutating func numberText() throws(Failure) -> Substring {
        _ = try peek()
        let start = index
        guard JSONNumberParser.float(bytes, at: &index) != nil else { throw .syntax }
        return Substring(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// The next value as FP32 (`data`'s elements), nil without consuming anything when it is not a number.
    @inline(__always)
    mutating func float() throws(Failure) -> Float? {
        let b = try peek()
        guard b == UInt8(ascii: "-") || (b &- UInt8(ascii: "0")) < 10 else { return nil }
        guard let x = JSONNumberParser.float(bytes, at: &index) else { throw .syntax }
        return x
    }

    /// The next value as an integer: a JSON number whose value is whole (`2`, `2.0`, `2e0`), as `JSONDecoder` takes them.
    mutating func integer(_ path: @autoclosure () -> String, expected: @autoclosure () -> String) throws(Failure) -> Int {
        let b = try peek()
        guard b == UInt8(ascii: "-") || (b &- UInt8(ascii: "0")) < 10 else { throw .wrongType(path: path(), expected: expected()) }
        let text = try numberText()
        if let n = Int(text) { return n }
        guard let d = Double(text), d == d.rounded(), abs(d) < 0x1p53 else { throw .wrongType(path: path(), expected: expected()) }
        return Int(d)
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(Failure) {
        switch try peek() {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw .tooDeep }
            try object { (c, _) throws(Failure) in try c.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw .tooDeep }
            try array { (c, _) throws(Failure) in try c.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberText()
        }
    }

    /// `true` or `false` next, consumed; nil (nothing consumed) for anything else.
    mutating func bool() throws(Failure) -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: return nil
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw .syntax }
        for k in 0..<n where bytes[index + k] != word.utf8Start[k] { throw .syntax }
        index += n
    }
}
