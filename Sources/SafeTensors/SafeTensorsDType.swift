/// The element types a safetensors file can declare, spelled as in the file's `dtype` field.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// 64-bit IEEE float.
    case f64 = "F64"
    /// 32-bit IEEE float.
    case f32 = "F32"
    /// 16-bit IEEE float.
    case f16 = "F16"
    /// bfloat16.
    case bf16 = "BF16"
    /// 64-bit signed integer.
    case i64 = "I64"
    /// 32-bit signed integer.
    case i32 = "I32"
    /// 16-bit signed integer.
    case i16 = "I16"
    /// 8-bit signed integer.
    case i8 = "I8"
    /// 8-bit unsigned integer.
    case u8 = "U8"
    /// Boolean stored as one byte.
    case bool = "BOOL"

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// The number of bytes `shape` needs with this dtype, or `nil` if the product overflows `Int`
    /// or the shape has a negative dimension.
    func byteCount(forShape shape: [Int]) -> Int? {
        var total = byteCount
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }
}
