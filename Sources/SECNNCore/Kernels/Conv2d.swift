// Convolution, stride 1, "same" zero padding (kernel 3 with padding 1, or
// kernel 1 with padding 0), through im2col + BLAS GEMM, one image at a time
// and the batch split across threads.
//
// Shapes: N batch, C input channels, H×W image, O output channels, K kernel
// side, P padding. input (N,C,H,W); weight (O,C,K,K); bias (O);
// output (N,O,H,W). The im2col matrix of one image is (C·K·K, H·W), so the
// scratch memory is bounded by one image per thread, whatever the batch.

/// The geometry of one convolution call.
public struct Conv2dShape: Sendable, Equatable {
    public var batch: Int, inChannels: Int, height: Int, width: Int
    public var outChannels: Int, kernel: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int) {
        precondition(kernel % 2 == 1, "only odd kernels keep the image size")
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernel = kernel
    }

    public var padding: Int { (kernel - 1) / 2 }
    public var pixels: Int { height * width }
    /// Rows of the im2col matrix: one per (input channel, tap).
    public var patchSize: Int { inChannels * kernel * kernel }
    public var inputImageSize: Int { inChannels * pixels }
    public var outputImageSize: Int { outChannels * pixels }
    public var weightCount: Int { outChannels * patchSize }
    /// Multiply-adds ×2 of the forward pass, for GFLOP/s figures.
    public var forwardFlops: Double { 2 * Double(batch * outChannels * patchSize * pixels) }
}

// MARK: - im2col

/// Unfolds one image (C,H,W) into `columns` (C·K·K, H·W), zeros where a tap
/// falls into the padding.
@_specialize(where T == Float)
public func im2col<T: TensorScalar>(_ image: UnsafePointer<T>, _ columns: UnsafeMutablePointer<T>, _ s: Conv2dShape) {
    let (h, w, k, p) = (s.height, s.width, s.kernel, s.padding)
    for c in 0..<s.inChannels {
        let plane = image + c * h * w
        for ky in 0..<k {
            for kx in 0..<k {
                let row = columns + ((c * k + ky) * k + kx) * h * w
                // Valid output columns x for this tap: 0 <= x + kx - p < w.
                let xStart = max(0, p - kx), xEnd = min(w, w + p - kx)
                for y in 0..<h {
                    let dst = row + y * w
                    let sy = y + ky - p
                    guard sy >= 0 && sy < h, xStart < xEnd else {
                        dst.update(repeating: 0, count: w)
                        continue
                    }
                    if xStart > 0 { dst.update(repeating: 0, count: xStart) }
                    dst.advanced(by: xStart).update(from: plane + sy * w + xStart + kx - p, count: xEnd - xStart)
                    if xEnd < w { dst.advanced(by: xEnd).update(repeating: 0, count: w - xEnd) }
                }
            }
        }
    }
}

/// Per-thread scratch: the im2col matrix of one image (C·K·K, H·W) and a
/// transposed output (H·W, O).
private struct ConvScratch<T: TensorScalar> {
    let columns: UnsafeMutablePointer<T>
    let transposed: UnsafeMutablePointer<T>

    static func with<R>(_ s: Conv2dShape, _ body: (ConvScratch<T>) -> R) -> R {
        let columns = UnsafeMutablePointer<T>.allocate(capacity: max(1, s.patchSize * s.pixels))
        let transposed = UnsafeMutablePointer<T>.allocate(capacity: max(1, s.pixels * s.outChannels))
        defer { columns.deallocate(); transposed.deallocate() }
        return body(ConvScratch(columns: columns, transposed: transposed))
    }

    /// The im2col matrix of image `n`: the image itself for a 1×1 kernel.
    @inline(__always)
    func patches(_ input: UnsafePointer<T>, _ n: Int, _ s: Conv2dShape) -> UnsafePointer<T> {
        let image = input + n * s.inputImageSize
        if s.kernel == 1 { return image }
        im2col(image, columns, s)
        return UnsafePointer(columns)
    }
}

/// `destination` (cols, rows) = `source` (rows, cols)ᵀ. Writes run along
/// the destination's rows: the source is the small, cache-resident side.
@inline(__always)
private func transpose<T: TensorScalar>(_ source: UnsafePointer<T>, rows: Int, cols: Int, into destination: UnsafeMutablePointer<T>) {
    for c in 0..<cols {
        let row = destination + c * rows
        for r in 0..<rows { row[r] = source[r * cols + c] }
    }
}

// GEMM layout. The convolution GEMMs of these networks have one short side
// (O = 16…48 channels) and one long side (H·W up to 1024 pixels). OpenBLAS's
// kernels run such products about 1.5–2× faster when the long side is M (the
// rows of C) than when the short side is (measured on this project's
// machine, BENCHMARKS.md). So each image computes outputᵀ (H·W, O) =
// im2colᵀ · weightᵀ and transposes the small result, and the weight
// gradient is accumulated as gradWeightᵀ (C·K·K, O) = im2col · gradOutputᵀ.

/// output(n) = weight · im2col(input(n)) + bias for one image, through its transpose.
@inline(__always)
private func convolveImage<T: TensorScalar>(
    _ input: UnsafePointer<T>, _ n: Int, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, _ s: Conv2dShape, _ scratch: ConvScratch<T>
) {
    let columns = scratch.patches(input, n, s)
    T.gemm(transposeA: true, transposeB: true, m: s.pixels, n: s.outChannels, k: s.patchSize,
           alpha: 1, a: columns, lda: s.pixels, b: weight, ldb: s.patchSize,
           beta: 0, c: scratch.transposed, ldc: s.outChannels)
    let out = output + n * s.outputImageSize
    transpose(scratch.transposed, rows: s.pixels, cols: s.outChannels, into: out)
    if let bias {
        for o in 0..<s.outChannels {
            let row = out + o * s.pixels, b = bias[o]
            for i in 0..<s.pixels { row[i] += b }
        }
    }
}

// MARK: - Forward

/// output(n) = weight · im2col(input(n)) + bias, for every image n.
@_specialize(where T == Float)
public func conv2dForward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, shape s: Conv2dShape
) {
    parallelChunks(s.batch) { _, images in
        ConvScratch<T>.with(s) { scratch in
            for n in images { convolveImage(input, n, weight: weight, bias: bias, output: output, s, scratch) }
        }
    }
}

// MARK: - Backward

/// The weight gradient of one image, transposed, and its bias gradient:
/// `gradWeightT (C·K·K, O) = beta·gradWeightT + columns · gradOutput(n)ᵀ`,
/// `gradBias = beta·gradBias + Σ_pixels gradOutput(n)`. The batch backward
/// accumulates it per image (beta 1); the per-example API calls it with
/// beta 0 to hand out each image's gradient.
@_specialize(where T == Float)
public func conv2dImageWeightGradientTransposed<T: TensorScalar>(
    columns: UnsafePointer<T>, gradOutput: UnsafePointer<T>, beta: T,
    gradWeightTransposed: UnsafeMutablePointer<T>, gradBias: UnsafeMutablePointer<T>?, shape s: Conv2dShape
) {
    T.gemm(transposeA: false, transposeB: true, m: s.patchSize, n: s.outChannels, k: s.pixels,
           alpha: 1, a: columns, lda: s.pixels, b: gradOutput, ldb: s.pixels,
           beta: beta, c: gradWeightTransposed, ldc: s.outChannels)
    if let gradBias {
        for o in 0..<s.outChannels {
            let row = gradOutput + o * s.pixels
            var sum: T = 0
            for i in 0..<s.pixels { sum += row[i] }
            // As BLAS does, beta 0 ignores the old value, which may be uninitialised memory (0 · NaN is NaN).
            gradBias[o] = beta == 0 ? sum : beta * gradBias[o] + sum
        }
    }
}

/// The weights of the convolution that computes the input gradient: a
/// "same"-padded, stride-1 convolution's adjoint is the convolution of the
/// output gradient with the kernel flipped in space and its channel axes
/// swapped, weightᵀ[c, o, ky, kx] = weight[o, c, K−1−ky, K−1−kx].
@_specialize(where T == Float)
public func conv2dAdjointWeights<T: TensorScalar>(_ weight: UnsafePointer<T>, _ s: Conv2dShape) -> [T] {
    let k = s.kernel, taps = k * k
    return [T](unsafeUninitializedCapacity: s.weightCount) { adjoint, initialized in
        for o in 0..<s.outChannels {
            for c in 0..<s.inChannels {
                let source = weight + (o * s.inChannels + c) * taps
                let target = adjoint.baseAddress! + (c * s.outChannels + o) * taps
                for t in 0..<taps { target[t] = source[taps - 1 - t] }
            }
        }
        initialized = s.weightCount
    }
}

/// The shape of the adjoint convolution (output gradient in, input gradient out).
extension Conv2dShape {
    public var adjoint: Conv2dShape {
        Conv2dShape(batch: batch, inChannels: outChannels, height: height, width: width, outChannels: inChannels,
                    kernel: kernel)
    }
}

/// Accumulates (`+=`) the weight and bias gradients over the batch (when
/// `gradWeight` is given) and, when `gradInput` is given, writes (`=`) the input gradient as the adjoint
/// convolution of the output gradient (`conv2dAdjointWeights`): one im2col
/// and one GEMM with a long inner dimension (9·O) per image, instead of a
/// short-inner-dimension GEMM and a col2im scatter. Each thread sums its
/// images' weight gradients into its own buffer; the buffers are added in
/// thread order, so the result depends only on the batch and the thread count.
@_specialize(where T == Float)
public func conv2dBackward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, gradOutput: UnsafePointer<T>,
    gradInput: UnsafeMutablePointer<T>?, gradWeight: UnsafeMutablePointer<T>?,
    gradBias: UnsafeMutablePointer<T>?, shape s: Conv2dShape
) {
    let chunks = min(ComputeThreads.count, s.batch)
    let partialSize = s.weightCount + s.outChannels
    let partials = UnsafeMutablePointer<T>.allocate(capacity: chunks * partialSize)
    partials.initialize(repeating: 0, count: chunks * partialSize)
    defer { partials.deallocate() }
    let adjointShape = s.adjoint
    let adjointWeight = gradInput == nil ? [] : conv2dAdjointWeights(weight, s)

    parallelChunks(s.batch) { chunk, images in
        let partialWeight = partials + chunk * partialSize
        let partialBias = gradBias == nil ? nil : partialWeight + s.weightCount
        if gradWeight != nil {
            ConvScratch<T>.with(s) { scratch in
                for n in images {
                    conv2dImageWeightGradientTransposed(
                        columns: scratch.patches(input, n, s), gradOutput: gradOutput + n * s.outputImageSize, beta: 1,
                        gradWeightTransposed: partialWeight, gradBias: partialBias, shape: s)
                }
            }
        }
        guard let gradInput else { return }
        ConvScratch<T>.with(adjointShape) { scratch in
            adjointWeight.withUnsafeBufferPointer { adjoint in
                for n in images {
                    convolveImage(gradOutput, n, weight: adjoint.baseAddress!, bias: nil, output: gradInput,
                                  adjointShape, scratch)
                }
            }
        }
    }
    guard let gradWeight else { return }
    for chunk in 0..<chunks {
        let partial = partials + chunk * partialSize
        // partial holds gradWeightᵀ (C·K·K, O).
        for o in 0..<s.outChannels {
            for r in 0..<s.patchSize { gradWeight[o * s.patchSize + r] += partial[r * s.outChannels + o] }
        }
        if let gradBias {
            for o in 0..<s.outChannels { gradBias[o] += partial[s.weightCount + o] }
        }
    }
}

// MARK: - Per-example gradients

/// Hands each image's weight gradient (O,C,K,K) and bias gradient (O) to
/// `body(n, gradWeight, gradBias)` — the gradient of that image's own loss
/// term, the quantity the empirical Fisher needs. Buffers are reused: copy
/// what must outlive the call.
public func conv2dPerExampleGradients<T: TensorScalar>(
    input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, hasBias: Bool, shape s: Conv2dShape,
    _ body: (Int, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?) -> Void
) {
    let transposedGrad = UnsafeMutablePointer<T>.allocate(capacity: s.weightCount)
    let weightGrad = UnsafeMutablePointer<T>.allocate(capacity: s.weightCount)
    let biasGrad = UnsafeMutablePointer<T>.allocate(capacity: s.outChannels)
    defer { transposedGrad.deallocate(); weightGrad.deallocate(); biasGrad.deallocate() }
    ConvScratch<T>.with(s) { scratch in
        for n in 0..<s.batch {
            conv2dImageWeightGradientTransposed(
                columns: scratch.patches(input, n, s), gradOutput: gradOutput + n * s.outputImageSize, beta: 0,
                gradWeightTransposed: transposedGrad, gradBias: hasBias ? biasGrad : nil, shape: s)
            transpose(transposedGrad, rows: s.patchSize, cols: s.outChannels, into: weightGrad)
            body(n, UnsafeBufferPointer(start: weightGrad, count: s.weightCount),
                 hasBias ? UnsafeBufferPointer(start: biasGrad, count: s.outChannels) : nil)
        }
    }
}

/// Σₙ gₙ and Σₙ gₙ² over the images' own weight and bias gradients, each
/// times `scale`, in Double: all the diagonal Fisher needs, without handing
/// out every gradient. Entries are the weight's (O,C,K,K) then, with a bias,
/// the bias's (O). Images are split across threads, each summing into its
/// own buffers, added in thread order: reproducible for a thread count.
@_specialize(where T == Float)
public func conv2dPerExampleGradientMoments<T: TensorScalar>(
    input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, hasBias: Bool, shape s: Conv2dShape, scale: Double
) -> (sum: [Double], square: [Double]) {
    let count = s.weightCount + (hasBias ? s.outChannels : 0)
    let chunks = min(ComputeThreads.count, s.batch)
    var sums = [[Double]](repeating: [], count: chunks), squares = sums
    sums.withUnsafeMutableBufferPointer { sums in
        squares.withUnsafeMutableBufferPointer { squares in
            parallelChunks(s.batch) { chunk, images in
                var sum = [Double](repeating: 0, count: count), square = sum
                let transposed = UnsafeMutablePointer<T>.allocate(capacity: s.weightCount + s.outChannels)
                defer { transposed.deallocate() }
                let bias = transposed + s.weightCount
                ConvScratch<T>.with(s) { scratch in
                    for n in images {
                        conv2dImageWeightGradientTransposed(
                            columns: scratch.patches(input, n, s), gradOutput: gradOutput + n * s.outputImageSize,
                            beta: 0, gradWeightTransposed: transposed, gradBias: hasBias ? bias : nil, shape: s)
                        // transposed is (C·K·K, O); entry (o, r) of the weight is at r·O + o.
                        for o in 0..<s.outChannels {
                            for r in 0..<s.patchSize {
                                let g = Double(transposed[r * s.outChannels + o]) * scale
                                sum[o * s.patchSize + r] += g
                                square[o * s.patchSize + r] += g * g
                            }
                        }
                        guard hasBias else { continue }
                        for o in 0..<s.outChannels {
                            let g = Double(bias[o]) * scale
                            sum[s.weightCount + o] += g
                            square[s.weightCount + o] += g * g
                        }
                    }
                }
                sums[chunk] = sum
                squares[chunk] = square
            }
        }
    }
    var sum = [Double](repeating: 0, count: count), square = sum
    for chunk in 0..<chunks where !sums[chunk].isEmpty {
        for i in 0..<count {
            sum[i] += sums[chunk][i]
            square[i] += squares[chunk][i]
        }
    }
    return (sum, square)
}

// MARK: - Reference

/// The definition, with direct loops: the fast kernels are tested against it.
public func conv2dForwardReference<T: TensorScalar>(
    input: [T], weight: [T], bias: [T]?, shape s: Conv2dShape
) -> [T] {
    var output = [T](repeating: 0, count: s.batch * s.outputImageSize)
    let (h, w, k, p) = (s.height, s.width, s.kernel, s.padding)
    for n in 0..<s.batch {
        for o in 0..<s.outChannels {
            for y in 0..<h {
                for x in 0..<w {
                    var sum = bias?[o] ?? 0
                    for c in 0..<s.inChannels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let sy = y + ky - p, sx = x + kx - p
                                guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                                sum += weight[((o * s.inChannels + c) * k + ky) * k + kx]
                                    * input[((n * s.inChannels + c) * h + sy) * w + sx]
                            }
                        }
                    }
                    output[((n * s.outChannels + o) * h + y) * w + x] = sum
                }
            }
        }
    }
    return output
}
