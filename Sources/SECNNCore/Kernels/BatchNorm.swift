// Batch normalisation over (N, C, S): S = H·W for BatchNorm2d, 1 for
// BatchNorm1d. Statistics are per channel over N·S values.
// Conventions follow PyTorch (weights move between the two unchanged):
// normalise with the biased batch variance, update running_var with the
// unbiased one, running = (1 - momentum)·running + momentum·batch.

/// Per-channel statistics used to normalise: mean and 1/sqrt(var + eps).

/// The ε of every batch norm in the network (PyTorch's default). Public
/// because an expansion that initialises a batch norm to the identity must
/// use the same value.
public let batchNormEpsilon = 1e-5

public struct BatchNormStatistics<T: TensorScalar>: Sendable {
    public var mean: [T]
    public var inverseStd: [T]
    /// The biased batch variance (train mode), for the running average.
    public var variance: [T]
}

/// Batch statistics of x (train mode).
@_specialize(where T == Float)
public func batchNormStatistics<T: TensorScalar>(
    input: UnsafePointer<T>, batch: Int, channels: Int, spatial: Int, epsilon: T
) -> BatchNormStatistics<T> {
    var mean = [T](repeating: 0, count: channels)
    var variance = [T](repeating: 0, count: channels)
    let count = T(batch * spatial)
    mean.withUnsafeMutableBufferPointer { meanBuffer in
        variance.withUnsafeMutableBufferPointer { varianceBuffer in
            let meanOut = meanBuffer.baseAddress!, varOut = varianceBuffer.baseAddress!
            parallelChunks(channels) { _, range in
                for c in range {
                    var sum: T = 0
                    for n in 0..<batch { sum += laneSum(input + (n * channels + c) * spatial, spatial) }
                    let mu = sum / count
                    // Two passes: the centred sum of squares does not cancel.
                    var squares: T = 0
                    for n in 0..<batch {
                        squares += laneSumOfSquares(input + (n * channels + c) * spatial, spatial, centre: mu)
                    }
                    meanOut[c] = mu
                    varOut[c] = squares / count
                }
            }
        }
    }
    return BatchNormStatistics(mean: mean, inverseStd: variance.map { 1 / T.sqrt($0 + epsilon) }, variance: variance)
}

/// Eval-mode statistics from the running averages.
public func batchNormStatistics<T: TensorScalar>(
    runningMean: [T], runningVariance: [T], epsilon: T
) -> BatchNormStatistics<T> {
    BatchNormStatistics(mean: runningMean, inverseStd: runningVariance.map { 1 / T.sqrt($0 + epsilon) },
                        variance: runningVariance)
}

/// output = gamma · (input − mean) · inverseStd + beta, then with a slope
/// LeakyReLU in the same pass.
@_specialize(where T == Float)
public func batchNormForward<T: TensorScalar>(
    input: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
    statistics: BatchNormStatistics<T>, output: UnsafeMutablePointer<T>,
    batch: Int, channels: Int, spatial: Int, leakyReLUSlope slope: T? = nil
) {
    forEachChannelRow(statistics, gamma, beta, batch: batch, channels: channels) { offset, scale, shift in
        let x = input + offset * spatial, y = output + offset * spatial
        if let slope {
            for i in 0..<spatial {
                let z = x[i] * scale + shift
                y[i] = z > 0 ? z : slope * z
            }
        } else {
            for i in 0..<spatial { y[i] = x[i] * scale + shift }
        }
    }
}

/// The gradient of LeakyReLU(BatchNorm(x)) with respect to the batch norm's
/// output: gradOutput where z = BatchNorm(x) > 0, slope·gradOutput
/// elsewhere, with z recomputed from x exactly as `batchNormForward` does
/// (so the sign is the forward pass's) rather than kept.
@_specialize(where T == Float)
public func batchNormLeakyReLUGradient<T: TensorScalar>(
    input: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
    statistics: BatchNormStatistics<T>, slope: T, gradOutput: UnsafePointer<T>,
    gradNormalised: UnsafeMutablePointer<T>, batch: Int, channels: Int, spatial: Int
) {
    forEachChannelRow(statistics, gamma, beta, batch: batch, channels: channels) { offset, scale, shift in
        let x = input + offset * spatial, dy = gradOutput + offset * spatial, dz = gradNormalised + offset * spatial
        for i in 0..<spatial { dz[i] = x[i] * scale + shift > 0 ? dy[i] : slope * dy[i] }
    }
}

/// Calls `body(row, scale, shift)` for every (image, channel) row, images
/// split across threads: the row's index n·C + c, and the batch norm's
/// affine map there, z = x·scale + shift.
@inline(__always)
private func forEachChannelRow<T: TensorScalar>(
    _ statistics: BatchNormStatistics<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>,
    batch: Int, channels: Int, _ body: (Int, T, T) -> Void
) {
    statistics.mean.withUnsafeBufferPointer { mean in
        statistics.inverseStd.withUnsafeBufferPointer { inverseStd in
            parallelChunks(batch) { _, images in
                for n in images {
                    for c in 0..<channels {
                        let scale = gamma[c] * inverseStd[c]
                        body(n * channels + c, scale, beta[c] - mean[c] * scale)
                    }
                }
            }
        }
    }
}

/// Accumulates gradGamma += Σ gradOutput·x̂ and gradBeta += Σ gradOutput, and
/// writes gradInput. In train mode the statistics depend on the batch, so
/// gradInput = gamma·inverseStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)), M = N·S;
/// in eval mode they are constants and gradInput = gamma·inverseStd·dy.
@_specialize(where T == Float)
public func batchNormBackward<T: TensorScalar>(
    input: UnsafePointer<T>, gamma: UnsafePointer<T>, statistics: BatchNormStatistics<T>,
    gradOutput: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>?,
    gradGamma: UnsafeMutablePointer<T>, gradBeta: UnsafeMutablePointer<T>,
    batch: Int, channels: Int, spatial: Int, training: Bool
) {
    let count = T(batch * spatial)
    statistics.mean.withUnsafeBufferPointer { mean in
        statistics.inverseStd.withUnsafeBufferPointer { inverseStd in
            parallelChunks(channels) { _, range in
                for c in range {
                    let mu = mean[c], invStd = inverseStd[c]
                    var sumDy: T = 0, sumDyCentred: T = 0
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let sums = laneSums(gradOutput + offset, input + offset, spatial, centre: mu)
                        sumDy += sums.plain
                        sumDyCentred += sums.weighted
                    }
                    let sumDyXhat = sumDyCentred * invStd
                    gradGamma[c] += sumDyXhat
                    gradBeta[c] += sumDy
                    guard let gradInput else { continue }
                    let scale = gamma[c] * invStd
                    let meanDy = training ? sumDy / count : 0
                    let meanDyXhat = training ? sumDyXhat / count : 0
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let x = input + offset, dy = gradOutput + offset, dx = gradInput + offset
                        for i in 0..<spatial {
                            let xhat = (x[i] - mu) * invStd
                            dx[i] = scale * (dy[i] - meanDy - xhat * meanDyXhat)
                        }
                    }
                }
            }
        }
    }
}

/// Hands each example's gamma and beta gradients (C each) to `body`:
/// Σ_s dy·x̂ and Σ_s dy over that example's pixels.
public func batchNormPerExampleGradients<T: TensorScalar>(
    input: UnsafePointer<T>, statistics: BatchNormStatistics<T>, gradOutput: UnsafePointer<T>,
    batch: Int, channels: Int, spatial: Int,
    _ body: (Int, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>) -> Void
) {
    var gammaGrad = [T](repeating: 0, count: channels)
    var betaGrad = [T](repeating: 0, count: channels)
    for n in 0..<batch {
        for c in 0..<channels {
            let offset = (n * channels + c) * spatial
            var sumDy: T = 0, sumDyXhat: T = 0
            for i in 0..<spatial {
                let dy = gradOutput[offset + i]
                sumDy += dy
                sumDyXhat += dy * (input[offset + i] - statistics.mean[c]) * statistics.inverseStd[c]
            }
            gammaGrad[c] = sumDyXhat
            betaGrad[c] = sumDy
        }
        gammaGrad.withUnsafeBufferPointer { g in betaGrad.withUnsafeBufferPointer { b in body(n, g, b) } }
    }
}
