// Softmax cross-entropy, averaged over the batch.
// logits (N,K); labels (N) in 0..<K.

/// Returns the mean loss −(1/N) Σ_n log softmax(logits(n))[label(n)] and
/// writes the softmax probabilities (the backward needs them).
@_specialize(where T == Float)
public func crossEntropyForward<T: TensorScalar>(
    logits: UnsafePointer<T>, labels: UnsafePointer<Int32>, probabilities: UnsafeMutablePointer<T>,
    batch: Int, classes: Int
) -> T {
    var total: T = 0
    for n in 0..<batch {
        let z = logits + n * classes, p = probabilities + n * classes
        var peak = z[0]
        for k in 1..<classes where z[k] > peak { peak = z[k] }
        var sum: T = 0
        for k in 0..<classes { p[k] = T.exp(z[k] - peak); sum += p[k] }
        for k in 0..<classes { p[k] /= sum }
        total += T.log(sum) + peak - z[Int(labels[n])]
    }
    return total / T(batch)
}

/// gradLogits = scale · (probabilities − onehot(labels)) / N, where `scale`
/// is the gradient flowing into the loss.
@_specialize(where T == Float)
public func crossEntropyBackward<T: TensorScalar>(
    probabilities: UnsafePointer<T>, labels: UnsafePointer<Int32>, scale: T,
    gradLogits: UnsafeMutablePointer<T>, batch: Int, classes: Int
) {
    let factor = scale / T(batch)
    for n in 0..<batch {
        for k in 0..<classes {
            let target: T = Int(labels[n]) == k ? 1 : 0
            gradLogits[n * classes + k] = factor * (probabilities[n * classes + k] - target)
        }
    }
}
