// Convolution, stride 1, "same" zero padding (kernel 3 with padding 1, or
// kernel 1 with padding 0), through BLAS GEMMs, the batch split across
// threads: 3×3 convs over 16 or more channels and widths that are multiples
// of 8 as Winograd F(2×2, 3×3) on groups of images (`Conv2dWinograd.swift`,
// the output and the input gradient), everything else one image at a time
// (`Conv2dImage.swift`).
//
// Shapes: N batch, C input channels, H×W image, O output channels, K kernel
// side, P padding. input (N,C,H,W); weight (O,C,K,K); bias (O);
// output (N,O,H,W). The scratch memory is one image's (or one Winograd
// group's) per thread, whatever the batch.

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

// MARK: - Forward

/// output(n) = weight ⊛ input(n) + bias, for every image n (`Conv2dImage.swift`),
/// each output plane then mapped by `epilogue` if given.
@_specialize(where T == Float)
public func conv2dForward<T: TensorScalar>(
    input: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, shape s: Conv2dShape, epilogue: ChannelAffine<T>? = nil
) {
    conv2dForward(input: input, weights: ConvKernelWeights(weight, shape: s), bias: bias, output: output, shape: s,
                  epilogue: epilogue)
}

/// `conv2dForward` with weights already in their kernel's layout.
@_specialize(where T == Float)
public func conv2dForward<T: TensorScalar>(
    input: UnsafePointer<T>, weights: ConvKernelWeights<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, shape s: Conv2dShape, epilogue: ChannelAffine<T>? = nil
) {
    precondition(weights.fits(s), "conv2dForward: weights prepared for \(weights.shape), not \(s)")
    precondition(epilogue.map { $0.channels == s.outChannels } ?? true,
                 "conv2dForward: an epilogue of \(epilogue?.channels ?? 0) channels for \(s.outChannels) outputs")
    weights.values.withUnsafeBufferPointer { prepared in
        let weights = prepared.baseAddress!
        if s.usesWinograd {
            return winogradConvolve(input: input, transformedWeights: weights, bias: bias, output: output, shape: s,
                                    epilogue: epilogue)
        }
        parallelChunks(s.batch) { _, images in
            ConvScratch<T>.with(s) { scratch in
                for n in images {
                    convolveImage(input, n, weights: weights, bias: bias, output: output, s, scratch, epilogue: epilogue)
                }
            }
        }
    }
}

// MARK: - Backward

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
/// `gradWeight` is given) and, when `gradInput` is given, writes (`=`) the
/// input gradient as the adjoint convolution of the output gradient
/// (`conv2dAdjointWeights`): a convolution with a long inner dimension (9·O)
/// per image, instead of a short-inner-dimension GEMM and a col2im scatter.
/// Each thread sums its images' weight gradients into its own buffer; the
/// buffers are added in thread order, so the result depends only on the
/// batch and the thread count.
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

    // adjointWeights: the adjoint conv's weights in its kernel's layout, when the input gradient is wanted.
    func run(adjointWeights: ConvKernelWeights<T>?) {
        parallelChunks(s.batch) { chunk, images in
            let partialWeight = partials + chunk * partialSize
            let partialBias = gradBias == nil ? nil : partialWeight + s.weightCount
            if gradWeight != nil {
                ConvScratch<T>.with(s) { scratch in
                    for n in images {
                        imageWeightGradientTransposed(
                            input, n, gradOutput: gradOutput, beta: 1, gradWeightTransposed: partialWeight,
                            gradBias: partialBias, s, scratch)
                    }
                }
            }
            guard let gradInput, let adjointWeights else { return }
            adjointWeights.values.withUnsafeBufferPointer { weights in
                ConvScratch<T>.with(adjointShape) { scratch in
                    for n in images {
                        convolveImage(gradOutput, n, weights: weights.baseAddress!, bias: nil, output: gradInput,
                                      adjointShape, scratch)
                    }
                }
            }
        }
    }
    let adjointWeights = gradInput == nil ? nil : conv2dAdjointWeights(weight, s).withUnsafeBufferPointer {
        ConvKernelWeights($0.baseAddress!, shape: adjointShape)
    }
    if let gradInput, let adjointWeights, adjointShape.usesWinograd {
        // Winograd's groups of images need their own pass over the batch.
        if gradWeight != nil { run(adjointWeights: nil) }
        conv2dForward(input: gradOutput, weights: adjointWeights, bias: nil, output: gradInput, shape: adjointShape)
    } else {
        run(adjointWeights: adjointWeights)
    }
    guard let gradWeight else { return }
    for chunk in 0..<chunks {
        let partial = partials + chunk * partialSize
        addTransposed(partial, rows: s.patchSize, cols: s.outChannels, into: gradWeight)
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
            imageWeightGradientTransposed(input, n, gradOutput: gradOutput, beta: 0, gradWeightTransposed: transposedGrad,
                                          gradBias: hasBias ? biasGrad : nil, s, scratch)
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
/// Each thread sums in the order the GEMM writes an image's gradient,
/// (C·K·K, O) then the bias: one contiguous pass per image that the
/// compiler vectorises; the sums are put in (O,C,K,K) order once, at the end.
///
/// Without `squares` (K-FAC needs the sum alone; the squares are then
/// zero) the GEMMs sum `floatSumImages` images' gradients in Float before
/// each pass into Double: a few thousand terms per Float sum, as for
/// K-FAC's other factors, and a quarter of the passes.
@_specialize(where T == Float)
public func conv2dPerExampleGradientMoments<T: TensorScalar>(
    input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, hasBias: Bool, shape s: Conv2dShape, scale: Double,
    squares: Bool = true
) -> (sum: [Double], square: [Double]) {
    let floatSumImages = squares ? 1 : 4
    let count = s.weightCount + (hasBias ? s.outChannels : 0)
    let chunks = min(ComputeThreads.count, s.batch)
    // Per chunk: the sums, then the squares, each in the GEMM's order.
    let partials = UnsafeMutablePointer<Double>.allocate(capacity: chunks * 2 * count)
    partials.initialize(repeating: 0, count: chunks * 2 * count)
    defer { partials.deallocate() }
    parallelChunks(s.batch) { chunk, images in
        let sum = partials + chunk * 2 * count, square = sum + count
        let gradient = UnsafeMutablePointer<T>.allocate(capacity: s.weightCount + s.outChannels)
        defer { gradient.deallocate() }
        ConvScratch<T>.with(s) { scratch in
            for first in stride(from: images.lowerBound, to: images.upperBound, by: floatSumImages) {
                for n in first..<min(first + floatSumImages, images.upperBound) {
                    imageWeightGradientTransposed(input, n, gradOutput: gradOutput, beta: n == first ? 0 : 1,
                                                  gradWeightTransposed: gradient,
                                                  gradBias: hasBias ? gradient + s.weightCount : nil, s, scratch)
                }
                if squares {
                    for k in 0..<count {
                        let g = Double(gradient[k]) * scale
                        sum[k] += g
                        square[k] += g * g
                    }
                } else {
                    for k in 0..<count { sum[k] += Double(gradient[k]) * scale }
                }
            }
        }
    }
    // The chunks' sums (offset 0) or squares (offset count), added in chunk order.
    func total(_ offset: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { total, initialized in
            total.initialize(repeating: 0)
            initialized = count
            for chunk in 0..<chunks {
                let partial = partials + chunk * 2 * count + offset
                addTransposed(partial, rows: s.patchSize, cols: s.outChannels, into: total.baseAddress!)
                for k in s.weightCount..<count { total[k] += partial[k] }  // the bias keeps its place
            }
        }
    }
    return (total(0), total(count))
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
