extension Safetensors {
    /// The element types the format names in `dtype` that this reader converts to `Float`: floats as the nearest
    /// float32 (F64 rounds; F16 and BF16 are exact), integers by value (I64 and U64 above 2²⁴ round), BOOL as 0
    /// or 1. The 8-bit float formats (F8_E4M3, F8_E5M2, …) are refused: no checkpoint this tool reads uses them.
    public enum DType: String, Sendable, CaseIterable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8: 1
            case .i16, .u16, .f16, .bf16: 2
            case .i32, .u32, .f32: 4
            case .f64, .i64, .u64: 8
            }
        }

        /// Whether the values are real numbers (weights) rather than counts or flags (PyTorch's
        /// `num_batches_tracked` is I64): only these can be NaN, and only these a model's parameters come from.
        public var isFloatingPoint: Bool { self == .f16 || self == .bf16 || self == .f32 || self == .f64 }

        /// Converts `destination.count` little-endian elements starting at `source` (any alignment).
        func decode(_ source: UnsafeRawPointer, into destination: UnsafeMutableBufferPointer<Float>) {
            // One loop per type, so that a large tensor does not pay a switch per element.
            func each<T: FixedWidthInteger>(_: T.Type, _ convert: (T) -> Float) {
                for i in destination.indices {
                    destination[i] = convert(T(littleEndian: source.loadUnaligned(fromByteOffset: i * T.bitWidth / 8, as: T.self)))
                }
            }
            switch self {
            case .bool: each(UInt8.self) { $0 == 0 ? 0 : 1 }
            case .u8: each(UInt8.self) { Float($0) }
            case .i8: each(Int8.self) { Float($0) }
            case .i16: each(Int16.self) { Float($0) }
            case .u16: each(UInt16.self) { Float($0) }
            case .i32: each(Int32.self) { Float($0) }
            case .u32: each(UInt32.self) { Float($0) }
            case .i64: each(Int64.self) { Float($0) }
            case .u64: each(UInt64.self) { Float($0) }
            case .f16: each(UInt16.self, Self.halfToFloat)
            case .bf16: each(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }   // the upper half of a float32
            case .f32: each(UInt32.self) { Float(bitPattern: $0) }
            case .f64: each(UInt64.self) { Float(Double(bitPattern: $0)) }
            }
        }

        /// IEEE 754 binary16 → float32, exactly, from the bits: Swift's `Float16` is missing on Intel Macs.
        static func halfToFloat(_ h: UInt16) -> Float {
            let sign: UInt32 = UInt32(h & 0x8000) << 16
            let exponent = UInt32(h >> 10) & 0x1F, mantissa = UInt32(h & 0x3FF)
            switch exponent {
            case 0:   // zero or subnormal: mantissa · 2⁻²⁴, exact in float32
                let magnitude = Float(mantissa) * 0x1p-24
                return sign == 0 ? magnitude : -magnitude
            case 0x1F: return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)   // infinity or NaN
            default: return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)   // rebias 15 → 127
            }
        }
    }
}
