// Channel concatenation of (N,A,S) and (N,B,S) into (N,A+B,S), S = H·W.

@_specialize(where T == Float)
public func concatChannelsForward<T: TensorScalar>(
    first: UnsafePointer<T>, second: UnsafePointer<T>, output: UnsafeMutablePointer<T>,
    batch: Int, firstChannels: Int, secondChannels: Int, spatial: Int
) {
    let (a, b) = (firstChannels * spatial, secondChannels * spatial)
    for n in 0..<batch {
        (output + n * (a + b)).update(from: first + n * a, count: a)
        (output + n * (a + b) + a).update(from: second + n * b, count: b)
    }
}

/// Splits the output gradient back into the two inputs' gradients (either may be nil).
@_specialize(where T == Float)
public func concatChannelsBackward<T: TensorScalar>(
    gradOutput: UnsafePointer<T>, gradFirst: UnsafeMutablePointer<T>?, gradSecond: UnsafeMutablePointer<T>?,
    batch: Int, firstChannels: Int, secondChannels: Int, spatial: Int
) {
    let (a, b) = (firstChannels * spatial, secondChannels * spatial)
    for n in 0..<batch {
        gradFirst?.advanced(by: n * a).update(from: gradOutput + n * (a + b), count: a)
        gradSecond?.advanced(by: n * b).update(from: gradOutput + n * (a + b) + a, count: b)
    }
}
