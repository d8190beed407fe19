// Element-wise ops over flat buffers of `count` scalars.

/// y = x for x > 0, slope·x otherwise.
@_specialize(where T == Float)
public func leakyReLUForward<T: TensorScalar>(
    input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, count: Int, slope: T
) {
    parallelChunks(count) { _, range in
        for i in range {
            let x = input[i]
            output[i] = x > 0 ? x : slope * x
        }
    }
}

/// dx = dy for y > 0, slope·dy otherwise (y and x have the same sign, so the
/// output is enough and the input need not be kept).
@_specialize(where T == Float)
public func leakyReLUBackward<T: TensorScalar>(
    output: UnsafePointer<T>, gradOutput: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>,
    count: Int, slope: T
) {
    parallelChunks(count) { _, range in
        for i in range {
            gradInput[i] = output[i] > 0 ? gradOutput[i] : slope * gradOutput[i]
        }
    }
}

/// y = x · mask, where the mask holds 0 (dropped) or 1/(1 − p) (kept).
/// Channel dropout (Dropout2d) repeats one mask value over a whole plane of
/// `spatial` scalars; plain dropout has `spatial` 1. Dropout's backward is
/// the same product with the gradient.
@_specialize(where T == Float)
public func applyDropoutMask<T: TensorScalar>(
    input: UnsafePointer<T>, mask: UnsafePointer<T>, output: UnsafeMutablePointer<T>,
    planes: Int, spatial: Int
) {
    parallelChunks(planes) { _, range in
        for plane in range {
            let m = mask[plane], offset = plane * spatial
            for i in 0..<spatial { output[offset + i] = input[offset + i] * m }
        }
    }
}

/// Draws a dropout mask: each of `planes` entries is 0 with probability p,
/// else 1/(1 − p). Drawn sequentially from the seeded generator, so masks do
/// not depend on the thread count.
public func dropoutMask<T: TensorScalar>(planes: Int, probability: Double, generator: inout SeededGenerator) -> [T] {
    let keep = T(1 / (1 - probability))
    return (0..<planes).map { _ in generator.nextUnit() < probability ? 0 : keep }
}

/// destination += source.
@_specialize(where T == Float)
public func addInPlace<T: TensorScalar>(_ source: UnsafePointer<T>, into destination: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { destination[i] += source[i] }
}

/// Σ |x|.
@_specialize(where T == Float)
public func l1Norm<T: TensorScalar>(_ values: UnsafePointer<T>, count: Int) -> T {
    var sum: T = 0
    for i in 0..<count { sum += abs(values[i]) }
    return sum
}

/// gradient = scale · sign(x), with sign(0) = 0 (the subgradient PyTorch's abs uses).
@_specialize(where T == Float)
public func l1Backward<T: TensorScalar>(_ values: UnsafePointer<T>, scale: T, gradient: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { gradient[i] = values[i] > 0 ? scale : (values[i] < 0 ? -scale : 0) }
}
