// The per-image products of a convolution, each as BLAS GEMMs: the output
// (forward, and the adjoint convolution that gives the input gradient) and
// the weight gradient. `Conv2d.swift` runs them over the batch, except the
// outputs of the shapes that Winograd's transform computes with fewer
// multiplications (`Conv2dWinograd.swift`).
//
// Two ways to lay out the same product, chosen by the shape:
//
// - im2col: the image unfolded into a (C·K·K, H·W) matrix, one GEMM with
//   inner dimension C·K·K. Any kernel; the unfolding writes nine copies of
//   the image, which costs as much as a fifth of the GEMM.
// - shifted taps (3×3 kernels with 16 or more input channels): one copy of
//   the image with its zero border, (C, H+2, W+2), read by nine GEMMs, one
//   per kernel tap, each over a shifted view. A view of tap (ky, kx) is a
//   strided (C, H·(W+2)) matrix starting ky·(W+2)+kx into the padded plane,
//   whose columns are the output pixels in rows of W+2 (the last two of each
//   row are junk, and dropped). No unfolding; 2/W more multiply-adds.
//   Measured on this project's machine, one thread, per image, against
//   im2col: forward 21–45% faster for the layers of these networks (7% for
//   24 channels at 32×32), weight gradients 4% slower to 37% faster; and
//   5× slower for the 3-channel first conv, whose GEMMs would have an inner
//   dimension of 3.
//
// GEMM orientation. The convolution GEMMs of these networks have one short
// side (O = 16…48 channels) and one long side (H·W up to 1024 pixels).
// OpenBLAS's kernels run such products about 1.5–2× faster when the long
// side is M (the rows of C) than when the short side is (measured on this
// project's machine, BENCHMARKS.md). So each image computes outputᵀ (pixels,
// O) and transposes the small result, and the weight gradient is
// accumulated as gradWeightᵀ (C·K·K, O). The exception is the image layer's
// output: over 1 or 3 input channels the inner dimension is only 9 or 27,
// and the product written as planes, (O, pixels), with no transpose after
// it, took 10% less of a whole 16x1,16x1,16x1 network's single-image time
// (minimum over 2,000 images, 78 µs against 87).

extension Conv2dShape {
    /// Whether the products run as nine shifted-tap GEMMs rather than over im2col.
    var usesShiftedTaps: Bool { kernel == 3 && inChannels >= 16 }
    /// W + 2: a padded row, and a row of output pixels in the shifted-tap layout.
    var paddedWidth: Int { width + 2 }
    /// (H + 2)·(W + 2): one channel of the padded image.
    var paddedPlane: Int { (height + 2) * paddedWidth }
    /// Whether the im2col product writes the output planes (O, pixels)
    /// directly rather than their transpose: for the image layer's few
    /// input channels (see "GEMM orientation" above).
    var writesPlanes: Bool { !usesShiftedTaps && kernel == 3 && inChannels <= 4 }
    /// H·(W + 2): the output pixels of a shifted-tap GEMM, junk columns included.
    var paddedPixels: Int { height * paddedWidth }
    /// Where 3×3 tap (ky, kx) = (tap / 3, tap % 3) of output pixel (0, 0)
    /// lies in a padded plane: ky·(W+2) + kx.
    func tapOffset(_ tap: Int) -> Int { (tap / 3) * paddedWidth + tap % 3 }
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

// MARK: - Scratch

/// One thread's scratch, sized for one image of shape `s`.
struct ConvScratch<T: TensorScalar> {
    /// The im2col matrix (C·K·K, H·W), or for shifted taps (and the image
    /// layer's forward in place, `SmallGEMM.convolveTaps`) the padded image
    /// (C, H+2, W+2) plus two zeros, so that the last tap's view of the last
    /// channel ends inside it. Its border stays zero; images fill the inside.
    let image: UnsafeMutablePointer<T>
    /// outputᵀ: (H·W, O), or (H·(W+2), O) for shifted taps.
    let transposed: UnsafeMutablePointer<T>
    /// For shifted taps, an output gradient (O, H·(W+2)), its junk columns zero.
    let paddedGradient: UnsafeMutablePointer<T>

    static func with<R>(_ s: Conv2dShape, _ body: (ConvScratch<T>) -> R) -> R {
        let taps = s.usesShiftedTaps
        let paddedCount = s.inChannels * s.paddedPlane + 2
        // An image layer that convolves in place pads its image forward and unfolds it backward.
        let inPlace = SmallGEMM.convolvesTaps(T.self, s)
        let imageCount = taps ? paddedCount : inPlace ? max(paddedCount, s.patchSize * s.pixels) : s.patchSize * s.pixels
        let image = UnsafeMutablePointer<T>.allocate(capacity: max(1, imageCount))
        let transposed = UnsafeMutablePointer<T>.allocate(capacity: max(1, (taps ? s.paddedPixels : s.pixels) * s.outChannels))
        let gradientCount = taps ? s.outChannels * s.paddedPixels : 1
        let paddedGradient = UnsafeMutablePointer<T>.allocate(capacity: gradientCount)
        if taps || inPlace { image.initialize(repeating: 0, count: paddedCount) }
        if taps { paddedGradient.initialize(repeating: 0, count: gradientCount) }
        defer { image.deallocate(); transposed.deallocate(); paddedGradient.deallocate() }
        return body(ConvScratch(image: image, transposed: transposed, paddedGradient: paddedGradient))
    }

    /// The im2col matrix of image `n`: the image itself for a 1×1 kernel.
    @inline(__always)
    func patches(_ input: UnsafePointer<T>, _ n: Int, _ s: Conv2dShape) -> UnsafePointer<T> {
        let image = input + n * s.inputImageSize
        if s.kernel == 1 { return image }
        im2col(image, self.image, s)
        return UnsafePointer(self.image)
    }

    /// Tap `tap`'s view of the padded image: a (C, H·(W+2)) matrix with rows
    /// `paddedPlane` apart, starting ky·(W+2) + kx into the first plane.
    @inline(__always)
    func tapView(_ tap: Int, _ s: Conv2dShape) -> UnsafePointer<T> {
        UnsafePointer(image + s.tapOffset(tap))
    }

    /// Copies image `n` inside the zero border of the padded image.
    @inline(__always)
    func pad(_ input: UnsafePointer<T>, _ n: Int, _ s: Conv2dShape) {
        copyRows(from: input + n * s.inputImageSize, planes: s.inChannels, s,
                 into: image + s.paddedWidth + 1, planeStride: s.paddedPlane)
    }

    /// Copies the output gradient of image `n` into rows of W+2 (junk columns stay zero).
    @inline(__always)
    func padGradient(_ gradOutput: UnsafePointer<T>, _ n: Int, _ s: Conv2dShape) {
        copyRows(from: gradOutput + n * s.outputImageSize, planes: s.outChannels, s,
                 into: paddedGradient, planeStride: s.paddedPixels)
    }

    /// Rows of W values from planes of H·W into rows of W+2 starting at `destination`.
    @inline(__always)
    private func copyRows(from source: UnsafePointer<T>, planes: Int, _ s: Conv2dShape,
                          into destination: UnsafeMutablePointer<T>, planeStride: Int) {
        for plane in 0..<planes {
            for y in 0..<s.height {
                (destination + plane * planeStride + y * s.paddedWidth)
                    .update(from: source + (plane * s.height + y) * s.width, count: s.width)
            }
        }
    }
}

// MARK: - Output

/// output(n) = weight ⊛ input(n) + bias for one image, through its
/// transpose (the image layer: directly, `writesPlanes`). `weights` are in
/// `ConvKernelWeights`' layout for `s`.
@inline(__always)
func convolveImage<T: TensorScalar>(
    _ input: UnsafePointer<T>, _ n: Int, weights: UnsafePointer<T>, bias: UnsafePointer<T>?,
    output: UnsafeMutablePointer<T>, _ s: Conv2dShape, _ scratch: ConvScratch<T>, epilogue: ChannelAffine<T>? = nil
) {
    let out = output + n * s.outputImageSize
    let (o, transposed) = (s.outChannels, scratch.transposed)
    if s.usesShiftedTaps {
        scratch.pad(input, n, s)
        for tap in 0..<9 {
            T.gemm(transposeA: true, transposeB: true, m: s.paddedPixels, n: o, k: s.inChannels,
                   alpha: 1, a: scratch.tapView(tap, s), lda: s.paddedPlane,
                   b: weights + tap * o * s.inChannels, ldb: s.inChannels,
                   beta: tap == 0 ? 0 : 1, c: transposed, ldc: o)
        }
    } else if s.writesPlanes {
        if SmallGEMM.convolvesTaps(T.self, s) {
            scratch.pad(input, n, s)
            SmallGEMM.convolveTaps(padded: scratch.image, weights: weights, output: out, s)
        } else {
            T.gemm(transposeA: false, transposeB: false, m: o, n: s.pixels, k: s.patchSize,
                   alpha: 1, a: weights, lda: s.patchSize, b: scratch.patches(input, n, s), ldb: s.pixels,
                   beta: 0, c: out, ldc: s.pixels)
        }
        for channel in 0..<o {
            let plane = out + channel * s.pixels, b = bias?[channel] ?? 0
            for i in 0..<s.pixels { plane[i] += b }
            epilogue?.apply(plane, count: s.pixels, channel: channel)
        }
        return
    } else {
        T.gemm(transposeA: true, transposeB: true, m: s.pixels, n: o, k: s.patchSize,
               alpha: 1, a: scratch.patches(input, n, s), lda: s.pixels, b: weights, ldb: s.patchSize,
               beta: 0, c: transposed, ldc: o)
    }
    untranspose(transposed, rowLength: s.usesShiftedTaps ? s.paddedWidth : s.width, bias: bias, into: out, s)
    if let epilogue {
        for channel in 0..<o { epilogue.apply(out + channel * s.pixels, count: s.pixels, channel: channel) }
    }
}

/// One image's output planes (O, H, W) from outputᵀ, whose row of pixel
/// (y, x) is y·rowLength + x, plus the bias. Four channels by four pixels
/// at a time, a 4×4 transpose in registers: reading one channel at a time
/// would gather values O apart, a cache line each (measured: a third of the
/// first layer's time for one image, 16 channels at 32×32).
@inline(__always)
private func untranspose<T: TensorScalar>(_ transposed: UnsafePointer<T>, rowLength: Int, bias: UnsafePointer<T>?,
                                          into out: UnsafeMutablePointer<T>, _ s: Conv2dShape) {
    let o = s.outChannels, (channelBlocks, pixelBlocks) = (o & ~3, s.width & ~3)
    for c in stride(from: 0, to: channelBlocks, by: 4) {
        let b = bias.map { load4($0 + c) } ?? .zero
        for y in 0..<s.height {
            let source = transposed + y * rowLength * o + c
            let row = out + c * s.pixels + y * s.width
            for x in stride(from: 0, to: pixelBlocks, by: 4) {
                let (p0, p1, p2, p3) = (load4(source + x * o) + b, load4(source + (x + 1) * o) + b,
                                        load4(source + (x + 2) * o) + b, load4(source + (x + 3) * o) + b)
                store4(SIMD4(p0[0], p1[0], p2[0], p3[0]), row + x)
                store4(SIMD4(p0[1], p1[1], p2[1], p3[1]), row + s.pixels + x)
                store4(SIMD4(p0[2], p1[2], p2[2], p3[2]), row + 2 * s.pixels + x)
                store4(SIMD4(p0[3], p1[3], p2[3], p3[3]), row + 3 * s.pixels + x)
            }
            for x in pixelBlocks..<s.width {
                for k in 0..<4 { row[k * s.pixels + x] = source[x * o + k] + b[k] }
            }
        }
    }
    for channel in channelBlocks..<o {
        let plane = out + channel * s.pixels, b = bias?[channel] ?? 0
        for y in 0..<s.height {
            let row = plane + y * s.width, source = transposed + y * rowLength * o + channel
            for x in 0..<s.width { row[x] = source[x * o] + b }
        }
    }
}

// MARK: - Weight gradient

/// The weight gradient of one image, transposed, and its bias gradient:
/// `gradWeightT (C·K·K, O) = beta·gradWeightT + patches · gradOutput(n)ᵀ`,
/// `gradBias = beta·gradBias + Σ_pixels gradOutput(n)`. The batch backward
/// accumulates it per image (beta 1); the per-example functions call it
/// with beta 0 to hand out each image's gradient. For shifted taps, tap t's
/// rows of gradWeightT (c·9 + t) are the product of its view of the padded
/// image and the output gradient in rows of W+2, whose zero junk columns
/// drop the views' junk.
@inline(__always)
func imageWeightGradientTransposed<T: TensorScalar>(
    _ input: UnsafePointer<T>, _ n: Int, gradOutput: UnsafePointer<T>, beta: T,
    gradWeightTransposed: UnsafeMutablePointer<T>, gradBias: UnsafeMutablePointer<T>?,
    _ s: Conv2dShape, _ scratch: ConvScratch<T>
) {
    let o = s.outChannels, dy = gradOutput + n * s.outputImageSize
    if s.usesShiftedTaps {
        scratch.pad(input, n, s)
        scratch.padGradient(gradOutput, n, s)
        let block = smallGEMMBlock(m: s.inChannels, n: o, k: s.paddedPixels) ?? s.paddedPixels
        for tap in 0..<9 {
            for first in stride(from: 0, to: s.paddedPixels, by: block) {
                T.gemm(transposeA: false, transposeB: true, m: s.inChannels, n: o,
                       k: min(block, s.paddedPixels - first), alpha: 1, a: scratch.tapView(tap, s) + first,
                       lda: s.paddedPlane, b: scratch.paddedGradient + first, ldb: s.paddedPixels,
                       beta: first == 0 ? beta : 1, c: gradWeightTransposed + tap * o, ldc: 9 * o)
            }
        }
    } else {
        T.gemm(transposeA: false, transposeB: true, m: s.patchSize, n: o, k: s.pixels,
               alpha: 1, a: scratch.patches(input, n, s), lda: s.pixels, b: dy, ldb: s.pixels,
               beta: beta, c: gradWeightTransposed, ldc: o)
    }
    guard let gradBias else { return }
    for channel in 0..<o {
        let sum = laneSum(dy + channel * s.pixels, s.pixels)
        // As BLAS does, beta 0 ignores the old value, which may be uninitialised memory (0 · NaN is NaN).
        gradBias[channel] = beta == 0 ? sum : beta * gradBias[channel] + sum
    }
}

/// `destination` (cols, rows) = `source` (rows, cols)ᵀ. Writes run along
/// the destination's rows: the source is the small, cache-resident side.
@inline(__always)
func transpose<T: TensorScalar>(_ source: UnsafePointer<T>, rows: Int, cols: Int, into destination: UnsafeMutablePointer<T>) {
    for c in 0..<cols {
        let row = destination + c * rows
        for r in 0..<rows { row[r] = source[r * cols + c] }
    }
}

/// destination += sourceᵀ, source rows×cols row-major: how the weight
/// gradients summed in the GEMM's (C·K·K, O) order reach the weight's (O, C·K·K).
@inline(__always)
func addTransposed<T: TensorScalar>(_ source: UnsafePointer<T>, rows: Int, cols: Int,
                                    into destination: UnsafeMutablePointer<T>) {
    for c in 0..<cols {
        let row = destination + c * rows
        for r in 0..<rows { row[r] += source[r * cols + c] }
    }
}
