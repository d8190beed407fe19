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

/// Scratch for one thread: the im2col matrix of one image.
private func withColumns<T: TensorScalar, R>(_ s: Conv2dShape, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
    let columns = UnsafeMutablePointer<T>.allocate(capacity: max(1, s.patchSize * s.pixels))
    defer { columns.deallocate() }
    return body(columns)
}

/// The im2col matrix of image `n`: the image itself for a 1×1 kernel.
@inline(__always)
private func patches<T: TensorScalar>(
    _ input: UnsafePointer<T>, _ n: Int, _ s: Conv2dShape, _ scratch: UnsafeMutablePointer<T>
) -> UnsafePointer<T> {
    let image = input + n * s.inputImageSize
    if s.kernel == 1 { return image }
    im2col(image, scratch, s)
    return UnsafePointer(scratch)
}

// MARK: - Forward

/// output(n) = weight · im2col(input(n)) + bias, for every image n.
@_specialize(where T == Float)
public func conv2dForward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, shape s: Conv2dShape
) {
    parallelChunks(s.batch) { _, images in
        withColumns(s) { (scratch: UnsafeMutablePointer<T>) in
            for n in images {
                let columns = patches(input, n, s, scratch)
                let out = output + n * s.outputImageSize
                T.gemm(transposeA: false, transposeB: false, m: s.outChannels, n: s.pixels, k: s.patchSize,
                       alpha: 1, a: weight, lda: s.patchSize, b: columns, ldb: s.pixels,
                       beta: 0, c: out, ldc: s.pixels)
                if let bias {
                    for o in 0..<s.outChannels {
                        let row = out + o * s.pixels, b = bias[o]
                        for i in 0..<s.pixels { row[i] += b }
                    }
                }
            }
        }
    }
}

// MARK: - Backward

/// The weight (and bias) gradient of one image: `gradWeight = beta·gradWeight
/// + gradOutput(n) · columnsᵀ`, `gradBias = beta·gradBias + Σ_pixels gradOutput(n)`.
/// The batch backward accumulates it per image (beta 1); the per-example
/// API calls it with beta 0 to hand out each image's gradient.
@_specialize(where T == Float)
public func conv2dImageWeightGradient<T: TensorScalar>(
    columns: UnsafePointer<T>, gradOutput: UnsafePointer<T>, beta: T,
    gradWeight: UnsafeMutablePointer<T>, gradBias: UnsafeMutablePointer<T>?, shape s: Conv2dShape
) {
    T.gemm(transposeA: false, transposeB: true, m: s.outChannels, n: s.patchSize, k: s.pixels,
           alpha: 1, a: gradOutput, lda: s.pixels, b: columns, ldb: s.pixels,
           beta: beta, c: gradWeight, ldc: s.patchSize)
    if let gradBias {
        for o in 0..<s.outChannels {
            let row = gradOutput + o * s.pixels
            var sum: T = 0
            for i in 0..<s.pixels { sum += row[i] }
            gradBias[o] = beta * gradBias[o] + sum
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

/// Accumulates (`+=`) the weight and bias gradients over the batch and, when
/// `gradInput` is given, writes (`=`) the input gradient as the adjoint
/// convolution of the output gradient (`conv2dAdjointWeights`): one im2col
/// and one GEMM with a long inner dimension (9·O) per image, instead of a
/// short-inner-dimension GEMM and a col2im scatter. Each thread sums its
/// images' weight gradients into its own buffer; the buffers are added in
/// thread order, so the result depends only on the batch and the thread count.
@_specialize(where T == Float)
public func conv2dBackward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, gradOutput: UnsafePointer<T>,
    gradInput: UnsafeMutablePointer<T>?, gradWeight: UnsafeMutablePointer<T>,
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
        withColumns(s) { (scratch: UnsafeMutablePointer<T>) in
            for n in images {
                let dy = gradOutput + n * s.outputImageSize
                conv2dImageWeightGradient(columns: patches(input, n, s, scratch), gradOutput: dy, beta: 1,
                                          gradWeight: partialWeight, gradBias: partialBias, shape: s)
            }
        }
        guard let gradInput else { return }
        withColumns(adjointShape) { (scratch: UnsafeMutablePointer<T>) in
            adjointWeight.withUnsafeBufferPointer { adjoint in
                for n in images {
                    T.gemm(transposeA: false, transposeB: false, m: s.inChannels, n: s.pixels, k: adjointShape.patchSize,
                           alpha: 1, a: adjoint.baseAddress!, lda: adjointShape.patchSize,
                           b: patches(gradOutput, n, adjointShape, scratch), ldb: s.pixels,
                           beta: 0, c: gradInput + n * s.inputImageSize, ldc: s.pixels)
                }
            }
        }
    }
    for chunk in 0..<chunks {
        let partial = partials + chunk * partialSize
        for i in 0..<s.weightCount { gradWeight[i] += partial[i] }
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
    let weightGrad = UnsafeMutablePointer<T>.allocate(capacity: s.weightCount)
    let biasGrad = UnsafeMutablePointer<T>.allocate(capacity: s.outChannels)
    defer { weightGrad.deallocate(); biasGrad.deallocate() }
    withColumns(s) { (scratch: UnsafeMutablePointer<T>) in
        for n in 0..<s.batch {
            let columns = patches(input, n, s, scratch)
            conv2dImageWeightGradient(columns: columns, gradOutput: gradOutput + n * s.outputImageSize, beta: 0,
                                      gradWeight: weightGrad, gradBias: hasBias ? biasGrad : nil, shape: s)
            body(n, UnsafeBufferPointer(start: weightGrad, count: s.weightCount),
                 hasBias ? UnsafeBufferPointer(start: biasGrad, count: s.outChannels) : nil)
        }
    }
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
