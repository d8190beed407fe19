// Softmax cross-entropy against label-smoothed targets, averaged over the batch.
// logits (N,K); labels (N) in 0..<K; smoothing ε in [0, 1).
// Targets t = (1−ε)·onehot(label) + ε/K; ε = 0 is the plain cross-entropy.

/// Returns the mean loss (1/N) Σ_n [log Σ_k exp z_nk − Σ_k t_nk z_nk] (the
/// log-sum-exp taken around the row's peak) and writes the softmax
/// probabilities (the backward needs them).
@_specialize(where T == Float)
public func crossEntropyForward<T: TensorScalar>(
    logits: UnsafePointer<T>, labels: UnsafePointer<Int32>, smoothing: T, probabilities: UnsafeMutablePointer<T>,
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
        // Σ_k t_k z_k; at ε = 0 exactly z[label], so unsmoothed runs keep their bits.
        var targetDot = z[Int(labels[n])]
        if smoothing > 0 {
            var rowSum: T = 0
            for k in 0..<classes { rowSum += z[k] }
            targetDot = (1 - smoothing) * targetDot + smoothing * rowSum / T(classes)
        }
        total += T.log(sum) + peak - targetDot
    }
    return total / T(batch)
}

/// gradLogits = scale · (probabilities − targets) / N, where `scale` is the
/// gradient flowing into the loss.
@_specialize(where T == Float)
public func crossEntropyBackward<T: TensorScalar>(
    probabilities: UnsafePointer<T>, labels: UnsafePointer<Int32>, smoothing: T, scale: T,
    gradLogits: UnsafeMutablePointer<T>, batch: Int, classes: Int
) {
    let factor = scale / T(batch)
    // At ε = 0 these are exactly 0 and 1.
    let offTarget = smoothing / T(classes), onTarget = 1 - smoothing + offTarget
    for n in 0..<batch {
        for k in 0..<classes {
            let target = Int(labels[n]) == k ? onTarget : offTarget
            gradLogits[n * classes + k] = factor * (probabilities[n * classes + k] - target)
        }
    }
}
