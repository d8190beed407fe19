import Foundation

/// A dense, row-major (NCHW for images) array of scalars with a shape.
///
/// A value type: copies share storage until one of them is written
/// (Swift's copy-on-write arrays), so passing tensors around is cheap.
public struct Tensor<T: TensorScalar>: Sendable, Equatable {
    public var shape: [Int]
    public var scalars: [T]

    public init(shape: [Int], scalars: [T]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        // All-zero bits are 0.0 in IEEE 754: one memset, fast even in
        // unspecialised generic code (an element-wise fill is not).
        self.init(shape: shape) { memset($0, 0, shape.reduce(1, *) * MemoryLayout<T>.stride) }
    }

    public init(repeating value: T, shape: [Int]) {
        self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { scalars.count }

    /// The same scalars under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Converts every scalar to another precision (Float <-> Double).
    public func converted<U: TensorScalar>(to _: U.Type = U.self) -> Tensor<U> {
        Tensor<U>(shape: shape, scalars: scalars.map { U($0) })
    }
}

extension Tensor {
    /// A tensor whose every scalar `initializer` writes (no zero-fill first).
    public init(shape: [Int], initializingWith initializer: (UnsafeMutablePointer<T>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(buffer.baseAddress!)
            initialized = count
        }
    }

    @inline(__always)
    public func withPointer<R>(_ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
