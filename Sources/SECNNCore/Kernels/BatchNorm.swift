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
    /// Values per channel the batch statistics are over (N·S of the whole
    /// batch, every process's shard included); 0 for eval-mode statistics.
    public var count: Int
}

/// Batch statistics of x (train mode): of this process's batch, or with a
/// `shard`, of the global batch the processes hold together (synchronised
/// batch norm: each sum is summed over the processes before it is used, so
/// every process normalises with the same statistics as one process would).
@_specialize(where T == Float)
public func batchNormStatistics<T: TensorScalar>(
    input: UnsafePointer<T>, batch: Int, channels: Int, spatial: Int, epsilon: T, shard: BatchShard? = nil
) -> BatchNormStatistics<T> {
    let mean: [T], variance: [T], count: Int
    if let shard {
        count = shard.total * spatial
        var sums = channelSums(input, batch: batch, channels: channels, spatial: spatial).map(Double.init)
        shard.collective.sum(&sums)
        mean = sums.map { T($0 / Double(count)) }
        var squares = channelCentredSquares(input, batch: batch, channels: channels, spatial: spatial, means: mean)
            .map(Double.init)
        shard.collective.sum(&squares)
        variance = squares.map { T($0 / Double(count)) }
    } else {
        count = batch * spatial
        mean = channelSums(input, batch: batch, channels: channels, spatial: spatial).map { $0 / T(count) }
        // Two passes: the centred sum of squares does not cancel.
        variance = channelCentredSquares(input, batch: batch, channels: channels, spatial: spatial, means: mean)
            .map { $0 / T(count) }
    }
    return BatchNormStatistics(mean: mean, inverseStd: variance.map { 1 / T.sqrt($0 + epsilon) }, variance: variance,
                               count: count)
}

/// Σ x per channel of (N, C, S), channels split across threads.
private func channelSums<T: TensorScalar>(_ input: UnsafePointer<T>, batch: Int, channels: Int, spatial: Int) -> [T] {
    perChannel(channels) { c in
        var sum: T = 0
        for n in 0..<batch { sum += laneSum(input + (n * channels + c) * spatial, spatial) }
        return sum
    }
}

/// Σ (x − mean)² per channel of (N, C, S).
private func channelCentredSquares<T: TensorScalar>(
    _ input: UnsafePointer<T>, batch: Int, channels: Int, spatial: Int, means: [T]
) -> [T] {
    perChannel(channels) { c in
        var squares: T = 0
        for n in 0..<batch {
            squares += laneSumOfSquares(input + (n * channels + c) * spatial, spatial, centre: means[c])
        }
        return squares
    }
}

/// [value(c) for c in 0..<channels], channels split across threads.
@inline(__always)
private func perChannel<T: TensorScalar>(_ channels: Int, _ value: (Int) -> T) -> [T] {
    var values = [T](repeating: 0, count: channels)
    values.withUnsafeMutableBufferPointer { out in
        parallelChunks(channels) { _, range in
            for c in range { out[c] = value(c) }
        }
    }
    return values
}

/// Eval-mode statistics from the running averages.
public func batchNormStatistics<T: TensorScalar>(
    runningMean: [T], runningVariance: [T], epsilon: T
) -> BatchNormStatistics<T> {
    BatchNormStatistics(mean: runningMean, inverseStd: runningVariance.map { 1 / T.sqrt($0 + epsilon) },
                        variance: runningVariance, count: 0)
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
        affineLeakyReLU(input + offset * spatial, output + offset * spatial, count: spatial, scale: scale,
                        shift: shift, slope: slope)
    }
}

/// y = x·scale + shift over one channel's row, then the LeakyReLU if any
/// (x and y may be the same memory).
@inline(__always)
private func affineLeakyReLU<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int, scale: T, shift: T, slope: T?
) {
    if let slope {
        for i in 0..<count {
            let z = x[i] * scale + shift
            y[i] = z > 0 ? z : slope * z
        }
    } else {
        for i in 0..<count { y[i] = x[i] * scale + shift }
    }
}

/// An eval-mode batch norm (and its LeakyReLU) as the per-channel map a
/// convolution applies to each output plane right after writing it, while
/// the plane is still in cache: `batchNormForward` over the whole output
/// is a second pass through memory that inference need not make. The
/// scale and shift are `batchNormForward`'s, so the results are the same
/// bits.
public struct ChannelAffine<T: TensorScalar>: Sendable {
    let scale: [T], shift: [T]
    let slope: T?

    /// The map of a batch norm with eval-mode `statistics` (`batchNormStatistics(runningMean:…)`).
    public init(statistics: BatchNormStatistics<T>, gamma: [T], beta: [T], leakyReLUSlope slope: T?) {
        precondition(gamma.count == statistics.mean.count && beta.count == gamma.count,
                     "ChannelAffine: \(gamma.count) γ and \(beta.count) β for \(statistics.mean.count) channels")
        let scale = zip(gamma, statistics.inverseStd).map { $0 * $1 }
        self.scale = scale
        shift = (0..<gamma.count).map { beta[$0] - statistics.mean[$0] * scale[$0] }
        self.slope = slope
    }

    var channels: Int { scale.count }

    /// Maps `count` values of channel `channel` in place.
    @inline(__always)
    func apply(_ plane: UnsafeMutablePointer<T>, count: Int, channel: Int) {
        affineLeakyReLU(plane, plane, count: count, scale: scale[channel], shift: shift[channel], slope: slope)
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

/// The backward pass of [LeakyReLU∘]BatchNorm in eval mode when γ's and
/// β's gradients are not wanted (scoring), in one pass over x and the
/// gradient at the output: gradInput = γ/σ·dz, which eval mode computes
/// without sums over the batch, and each example's own γ and β gradients
/// (Σ dz·x̂ and Σ dz over its pixels, (N, C) each), the per-example
/// statistics scoring needs. dz, the gradient at the batch norm's output
/// (through the LeakyReLU when there is a `slope`), goes to a one-row buffer
/// that `laneSums` reads while it is in cache, not to memory. Bitwise what
/// `batchNormLeakyReLUGradient`, `batchNormBackward` and
/// `batchNormPerExampleGradients` give.
@_specialize(where T == Float)
public func batchNormEvalBackward<T: TensorScalar>(
    input: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
    statistics: BatchNormStatistics<T>, slope: T?, gradOutput: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>,
    batch: Int, channels: Int, spatial: Int
) -> (gamma: [T], beta: [T]) {
    perExampleSums(statistics, batch: batch, channels: channels, rowBuffer: slope == nil ? 0 : spatial) {
        r, c, row in
        let scale = gamma[c] * statistics.inverseStd[c], centre = statistics.mean[c], shift = beta[c] - centre * scale
        let x = input + r * spatial, dy = gradOutput + r * spatial, dx = gradInput + r * spatial
        guard let slope else {
            for i in 0..<spatial { dx[i] = scale * dy[i] }
            return laneSums(dy, x, spatial, centre: centre)
        }
        for i in 0..<spatial {
            let g = x[i] * scale + shift > 0 ? dy[i] : slope * dy[i]
            row[i] = g
            dx[i] = scale * g
        }
        return laneSums(row, x, spatial, centre: centre)
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
/// With a `shard` (synchronised batch norm) the two sums in gradInput are
/// the global batch's, summed over the processes, and M its count; γ's and
/// β's gradients stay this process's part, for the gradients' own sum.
@_specialize(where T == Float)
public func batchNormBackward<T: TensorScalar>(
    input: UnsafePointer<T>, gamma: UnsafePointer<T>, statistics: BatchNormStatistics<T>,
    gradOutput: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>?,
    gradGamma: UnsafeMutablePointer<T>, gradBeta: UnsafeMutablePointer<T>,
    batch: Int, channels: Int, spatial: Int, training: Bool, shard: BatchShard? = nil
) {
    // Σdy and Σdy·(x − mean) per channel.
    var sumDy = [T](repeating: 0, count: channels), sumDyCentred = sumDy
    sumDy.withUnsafeMutableBufferPointer { plain in
        sumDyCentred.withUnsafeMutableBufferPointer { weighted in
            parallelChunks(channels) { _, range in
                for c in range {
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let sums = laneSums(gradOutput + offset, input + offset, spatial, centre: statistics.mean[c])
                        plain[c] += sums.plain
                        weighted[c] += sums.weighted
                    }
                }
            }
        }
    }
    var sumDyXhat = zip(sumDyCentred, statistics.inverseStd).map { $0 * $1 }
    for c in 0..<channels {
        gradGamma[c] += sumDyXhat[c]
        gradBeta[c] += sumDy[c]
    }
    guard let gradInput else { return }
    let count: T
    if let shard, training {
        var global = (sumDy + sumDyXhat).map(Double.init)
        shard.collective.sum(&global)
        sumDy = global[..<channels].map { T($0) }
        sumDyXhat = global[channels...].map { T($0) }
        count = T(shard.total * spatial)
    } else {
        count = T(batch * spatial)
    }
    statistics.mean.withUnsafeBufferPointer { mean in
        statistics.inverseStd.withUnsafeBufferPointer { inverseStd in
            parallelChunks(channels) { _, range in
                for c in range {
                    let mu = mean[c], invStd = inverseStd[c]
                    let scale = gamma[c] * invStd
                    let meanDy = training ? sumDy[c] / count : 0
                    let meanDyXhat = training ? sumDyXhat[c] / count : 0
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

/// Each example's own γ and β gradients, Σ_s dy·x̂ and Σ_s dy over its
/// pixels, (N, C) each.
@_specialize(where T == Float)
public func batchNormPerExampleGradients<T: TensorScalar>(
    input: UnsafePointer<T>, statistics: BatchNormStatistics<T>, gradOutput: UnsafePointer<T>,
    batch: Int, channels: Int, spatial: Int
) -> (gamma: [T], beta: [T]) {
    perExampleSums(statistics, batch: batch, channels: channels, rowBuffer: 0) { r, c, _ in
        laneSums(gradOutput + r * spatial, input + r * spatial, spatial, centre: statistics.mean[c])
    }
}

/// Each example's γ and β gradients, (N, C) each, from `rowSums(row, c,
/// buffer)`: (Σ dy, Σ dy·(x − mean)) over (image, channel) row n·C + c,
/// then x̂'s 1/σ once per sum. Images are split across threads, each with
/// a `rowBuffer`-value buffer for its rows.
@inline(__always)
private func perExampleSums<T: TensorScalar>(
    _ statistics: BatchNormStatistics<T>, batch: Int, channels: Int, rowBuffer: Int,
    _ rowSums: (Int, Int, UnsafeMutablePointer<T>) -> (plain: T, weighted: T)
) -> (gamma: [T], beta: [T]) {
    var gammaGrads = [T](repeating: 0, count: batch * channels), betaGrads = gammaGrads
    gammaGrads.withUnsafeMutableBufferPointer { gamma in
        betaGrads.withUnsafeMutableBufferPointer { beta in
            parallelChunks(batch) { _, images in
                let buffer = UnsafeMutablePointer<T>.allocate(capacity: rowBuffer)
                defer { buffer.deallocate() }
                for row in (images.lowerBound * channels)..<(images.upperBound * channels) {
                    let c = row % channels
                    let sums = rowSums(row, c, buffer)
                    gamma[row] = sums.weighted * statistics.inverseStd[c]
                    beta[row] = sums.plain
                }
            }
        }
    }
    return (gammaGrads, betaGrads)
}
