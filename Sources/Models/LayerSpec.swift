import NN

/// One entry of a spec's `layers`.
public indirect enum LayerSpec: Sendable, Hashable {
    /// `out == nil` only with `depthwise` (out = in); `padding == nil` means "same" (kernel / 2, stride 1).
    case conv(out: Int?, kernel: Int, stride: Int, padding: Int?, groups: Int, depthwise: Bool, bias: Bool)
    case batchNorm
    case relu
    case relu6
    case maxPool(kernel: Int, stride: Int?, padding: Int)
    case avgPool(kernel: Int, stride: Int?, padding: Int)
    case globalAvgPool
    case flatten
    case dropout(Float)
    /// `out == nil` means the spec's `classes`.
    case linear(out: Int?, bias: Bool)
    case resize(Int)
    case residual([LayerSpec])

    public static let kinds = ["conv", "bn", "relu", "relu6", "maxpool", "avgpool", "gap", "flatten", "dropout", "linear",
                               "resize", "residual"]

    init(_ r: SpecReader) throws {
        let kind: String
        let arg: SpecReader?
        if case .string(let s) = r.value {
            (kind, arg) = (s, nil)
        } else {
            let entries = try r.object(allowed: nil)
            guard entries.keys.count == 1, let k = entries.keys.first else {
                throw r.fail("a layer is a kind name or a one-key mapping {kind: options}; got keys \(entries.keys)")
            }
            (kind, arg) = (k, entries[k])
        }
        func options(_ allowed: [String]) throws -> SpecEntries {
            guard let arg, arg.value != .null else { return SpecEntries(keys: [], values: [:], reader: r) }
            return try arg.object(allowed: allowed)
        }
        func noArgument() throws {
            if let arg, arg.value != .null, arg.value != .object([]) { throw arg.fail("'\(kind)' takes no options") }
        }
        switch kind {
        case "conv":
            let o = try options(["out", "kernel", "stride", "padding", "groups", "depthwise", "bias"])
            let depthwise = try o["depthwise"]?.bool() ?? false
            guard let kernel = try o["kernel"]?.int(min: 1) else { throw o.reader.fail("conv needs 'kernel'") }
            let out = try o["out"]?.int(min: 1)
            if out == nil && !depthwise { throw o.reader.fail("conv needs 'out' (or depthwise: true)") }
            let stride = try o["stride"]?.int(min: 1) ?? 1
            var padding: Int? = 0
            if let p = o["padding"] {
                if case .string("same") = p.value {
                    guard stride == 1 else { throw p.fail("padding 'same' needs stride 1 (as in PyTorch)") }
                    guard kernel % 2 == 1 else { throw p.fail("padding 'same' needs an odd kernel") }
                    padding = nil
                } else {
                    padding = try p.int(min: 0)
                }
            }
            let groups = try o["groups"]?.int(min: 1) ?? 1
            if depthwise && o["groups"] != nil { throw o.reader.fail("give either 'groups' or 'depthwise', not both") }
            self = .conv(out: out, kernel: kernel, stride: stride, padding: padding, groups: groups, depthwise: depthwise,
                         bias: try o["bias"]?.bool() ?? true)
        case "bn", "batchnorm": try noArgument(); self = .batchNorm
        case "relu": try noArgument(); self = .relu
        case "relu6": try noArgument(); self = .relu6
        case "maxpool", "avgpool":
            let o = try options(["kernel", "stride", "padding"])
            guard let kernel = try o["kernel"]?.int(min: 1) else { throw o.reader.fail("\(kind) needs 'kernel'") }
            let stride = try o["stride"]?.int(min: 1), padding = try o["padding"]?.int(min: 0) ?? 0
            self = kind == "maxpool" ? .maxPool(kernel: kernel, stride: stride, padding: padding)
                : .avgPool(kernel: kernel, stride: stride, padding: padding)
        case "gap", "global_avg_pool": try noArgument(); self = .globalAvgPool
        case "flatten": try noArgument(); self = .flatten
        case "dropout":
            let p: Double
            if let arg, case .object = arg.value {
                let o = try arg.object(allowed: ["p"])
                p = try o["p"]?.double() ?? 0.5
            } else {
                p = try arg?.double() ?? 0.5
            }
            guard p >= 0, p < 1 else { throw (arg ?? r).fail("dropout p must be in [0, 1), got \(p)") }
            self = .dropout(Float(p))
        case "linear":
            let o = try options(["out", "bias"])
            self = .linear(out: try o["out"]?.int(min: 1), bias: try o["bias"]?.bool() ?? true)
        case "resize":
            guard let arg else { throw r.fail("resize needs a size") }
            if case .object = arg.value {
                let o = try arg.object(allowed: ["size"])
                guard let s = try o["size"]?.int(min: 1) else { throw arg.fail("resize needs 'size'") }
                self = .resize(s)
            } else {
                self = .resize(try arg.int(min: 1))
            }
        case "residual":
            guard let arg else { throw r.fail("residual needs a list of layers") }
            let body = try arg.array().map(LayerSpec.init)
            guard !body.isEmpty else { throw arg.fail("residual needs at least one layer") }
            self = .residual(body)
        default:
            throw r.fail("unknown layer kind '\(kind)'; known: \(Self.kinds.joined(separator: ", "))")
        }
    }
}

