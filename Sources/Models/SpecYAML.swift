import Yams

/// Reads a YAML spec file into the JSON-shaped `SpecValue`, with Yams (libyaml): full YAML 1.2 syntax
/// (block and flow collections, comments, quoting, anchors and aliases), one document per file.
///
/// Scalars resolve by YAML 1.2's core schema: `true`/`false` are booleans, `null`/`~`/empty are null,
/// integers and floats are numbers, anything else (and anything quoted) is a string; YAML 1.1's `yes`,
/// `on` and dates stay strings, as JSON would read them. Mapping keys are always strings.
public enum SpecYAML {
    /// A YAML syntax or structure error, with the position libyaml reports (1-based).
    public struct Error: Swift.Error, CustomStringConvertible, Equatable, Sendable {
        public let line: Int?
        public let column: Int?
        public let message: String
        public var description: String {
            guard let line else { return "YAML: \(message)" }
            return "YAML line \(line)" + (column.map { ", column \($0)" } ?? "") + ": \(message)"
        }
    }

    /// YAML 1.2's core schema (Yams' default resolver is YAML 1.1's, which also reads `yes`/`on` as true).
    private static let resolver = Resolver.basic
        .appending(Resolver.Rule.null)
        .appending(try! Resolver.Rule(.bool, "^(?:true|True|TRUE|false|False|FALSE)$"))
        .appending(Resolver.Rule.int)
        .appending(Resolver.Rule.float)

    public static func parse(_ text: String) throws -> SpecValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver)
        } catch let e as YamlError {
            throw Error(e)
        }
        return try root.map(value) ?? .null
    }

    private static func value(_ node: Node) throws -> SpecValue {
        switch node {
        case .scalar(let s):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return .bool(["true", "True", "TRUE"].contains(s.string))
            case .int:
                guard let i = Int.construct(from: s) else { throw Error(at: node, "integer \(s.string) is out of range") }
                return .int(i)
            case .float:
                guard let d = Double.construct(from: s) else { throw Error(at: node, "'\(s.string)' is not a number") }
                return .double(d)
            default: return .string(s.string)
            }
        case .sequence(let items):
            return .array(try items.map(value))
        case .mapping(let pairs):
            return .object(try pairs.map { key, v in
                guard case .scalar(let k) = key else { throw Error(at: key, "a key must be a string, got a list or mapping") }
                return (k.string, try value(v))
            })
        case .alias:
            // `compose` replaces aliases by their anchored nodes; one left over is libyaml's to report.
            throw Error(at: node, "unresolved alias")
        }
    }
}

extension SpecYAML.Error {
    init(at node: Node, _ message: String) {
        self.init(line: node.mark?.line, column: node.mark?.column, message: message)
    }

    /// libyaml's problem and position, without Yams' multi-line snippet.
    init(_ e: YamlError) {
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return problem }
            return "\(context.text) (line \(context.mark.line)), \(problem)"
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            self.init(line: mark.line, column: mark.column, message: text(context, problem))
        case .duplicatedKeysInMapping(let keys, let context):
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            self.init(line: context.mark.line, column: context.mark.column,
                      message: "duplicate key \(list) in one mapping (first given here)")
        default:
            self.init(line: nil, column: nil, message: "\(e)")
        }
    }
}
