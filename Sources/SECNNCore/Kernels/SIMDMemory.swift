// Four- and eight-lane loads and stores at any alignment, for the
// kernels that spell out their vector loops (LaneSums, Winograd's transforms).

@inline(__always)
func load8<T: TensorScalar>(_ pointer: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<T>.self)
}

@inline(__always)
func load4<T: TensorScalar>(_ pointer: UnsafePointer<T>) -> SIMD4<T> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<T>.self)
}

@inline(__always)
func store4<T: TensorScalar>(_ value: SIMD4<T>, _ pointer: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD4<T>.self)
}

/// Stores even[0], odd[0], even[1], odd[1], … : eight values.
@inline(__always)
func storeInterleaved<T: TensorScalar>(_ even: SIMD4<T>, _ odd: SIMD4<T>, _ pointer: UnsafeMutablePointer<T>) {
    let values = SIMD8<T>(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3])
    UnsafeMutableRawPointer(pointer).storeBytes(of: values, as: SIMD8<T>.self)
}
