/// The Kronecker-factored Fisher of one conv2d or linear layer (K-FAC,
/// Martens & Grosse 2015; its convolutional form KFC, Grosse & Martens
/// 2016) and the natural score it gives, accumulated from the layer's
/// `PerExampleRecord`s.
///
/// The layer's parameters are read as one O×I matrix W̃ = [W | b]: the
/// weight flattened to (O, C·K·K) in PyTorch's (O,C,K,K) order, or
/// (O, inputs), and the bias, when the layer has one, as the last column.
/// The input is extended to match with a homogeneous coordinate 1,
/// appended last (I = C·K·K + 1 or inputs + 1 with a bias).
///
/// For examples n = 1…N with T positions each (H·W for a conv, 1 for a
/// linear layer), let aₙₜ ∈ ℝᴵ be the input at position t (for a conv,
/// column t of im2col(xₙ), plus the 1) and sₙₜ ∈ ℝᴼ the gradient of
/// example n's own loss with respect to the output at t (the recorded
/// gradient times `scale`). Then
///
///     Gₙ = Σₜ sₙₜ aₙₜᵀ                   example n's exact gradient of W̃ (O×I)
///     Ω  = (1/N)    Σₙ Σₜ aₙₜ aₙₜᵀ      input factor (I×I)
///     Γ  = (1/(N·T)) Σₙ Σₜ sₙₜ sₙₜᵀ     output-gradient factor (O×O)
///     Ḡ  = (1/N)    Σₙ Gₙ               mean gradient (O×I)
///
/// and the empirical Fisher of vec(W̃) (columns stacked) is approximated by
///
///     F = (1/N) Σₙ vec(Gₙ) vec(Gₙ)ᵀ ≈ Ω ⊗ Γ.
///
/// For a linear layer this is K-FAC (inputs independent of output
/// gradients). For a conv, KFC also takes the positions as homogeneous
/// and their output gradients as uncorrelated: the T² cross terms of
/// vec(Gₙ)vec(Gₙ)ᵀ collapse to T diagonal ones, hence 1/N in Ω but
/// 1/(N·T) in Γ.
///
/// Accumulation. Each record (one batch) adds its examples through GEMMs
/// in the record's scalar type, and the results go to Double sums. For a
/// conv, SSᵀ is computed one image at a time, the weight gradient SAᵀ (A
/// the patches, S the output gradients over the image's T positions) four
/// images at a time, and AAᵀ for a few images at a time
/// (`ConvInputFactor.swift`: three at 32×32); for a linear layer, one GEMM
/// per product covers the batch (inner dimension N, the order of a conv
/// image's H·W). So a Float sum spans a few thousand terms at most, while
/// the totals, over hundreds of examples whose terms span orders of
/// magnitude, are kept in Double. The conversion costs about 1/T of the
/// GEMMs.
public struct KroneckerFactors: Sendable {
    /// The layer's weight, for messages and for callers matching layers.
    public let weightPath: String
    /// Whether the last column of W̃ is the bias (and aₙₜ ends in a 1).
    public let hasBias: Bool
    /// I: the side of Ω and the columns of Ḡ.
    public let inputDimension: Int
    /// O: the side of Γ and the rows of Ḡ.
    public let outputDimension: Int
    /// N: the examples accumulated so far.
    public private(set) var examples = 0
    /// N·T: the positions accumulated so far, Γ's normaliser.
    private var positions = 0
    /// Σ aaᵀ, Σ ssᵀ and Σ Gₙ.
    private var sums: Sums

    /// Empty factors for the layer that `record` belongs to (a conv2d or
    /// linear layer; batch norm has no Kronecker structure).
    public init<T: TensorScalar>(layerOf record: PerExampleRecord<T>) {
        let (inputs, outputs) = Self.dimensions(record)
        weightPath = record.weightPath
        hasBias = record.biasPath != nil
        inputDimension = inputs + (hasBias ? 1 : 0)
        outputDimension = outputs
        sums = Sums(inputs: inputDimension, outputs: outputDimension)
    }

    /// Input and output sizes of a conv2d or linear record, without the bias coordinate.
    private static func dimensions<T>(_ record: PerExampleRecord<T>) -> (inputs: Int, outputs: Int) {
        switch record.layer {
        case .conv2d(let shape): return (shape.patchSize, shape.outChannels)
        case .linear(_, let inputs, let outputs): return (inputs, outputs)
        case .batchNorm:
            preconditionFailure("KroneckerFactors: \(record.weightPath) is a batch norm; K-FAC needs conv2d or linear")
        }
    }

    /// Adds the examples of one record of this layer. `scale` turns the
    /// recorded gradients of a mean loss into per-example loss gradients
    /// (the batch size), as in `PerExampleRecord.forEachExample(scale:)`.
    ///
    /// Returns the record's own Σₙ Σₜ aaᵀ (I×I, its upper triangle). The
    /// input factor depends on the layer's inputs alone, so a caller scoring
    /// several models that feed this layer the very same inputs (the shared
    /// blocks in front of a candidate) passes it back as `inputSum` for the
    /// others, which then skip its GEMM, the most expensive of the three.
    /// A 3×3 conv whose input begins with the channels of one whose sum is
    /// known (the conv after a widened block's first layer) is given that
    /// sum as `knownChannels` and computes only the entries of the others.
    /// `profile` times a conv's three sums separately.
    @_specialize(where T == Float)
    @discardableResult
    public mutating func accumulate<T: TensorScalar>(_ record: PerExampleRecord<T>, scale: T,
                                                     inputSum: [Double]? = nil,
                                                     knownChannels: (count: Int, sum: [Double])? = nil,
                                                     profile: ScoringProfile? = nil) -> [Double] {
        let (inputs, outputs) = Self.dimensions(record)
        precondition(record.weightPath == weightPath && (record.biasPath != nil) == hasBias
                     && inputs + (hasBias ? 1 : 0) == inputDimension && outputs == outputDimension,
                     "KroneckerFactors of \(weightPath) (\(outputDimension)×\(inputDimension)) given a record of "
                     + "\(record.weightPath) (\(outputs)×\(inputs)\(record.biasPath == nil ? "" : " + bias"))")
        precondition(inputSum.map { $0.count == inputDimension * inputDimension } ?? true,
                     "KroneckerFactors of \(weightPath): a reused input sum has \(inputSum?.count ?? 0) entries")
        let known = knownChannels.map { known -> Int in
            let side = 9 * known.count + (hasBias ? 1 : 0)
            guard case .conv2d(let shape) = record.layer, shape.kernel == 3, inputSum == nil, known.count < shape.inChannels,
                  known.sum.count == side * side else {
                preconditionFailure("KroneckerFactors of \(weightPath): the sum of \(known.count) known channels "
                                    + "(\(known.sum.count) entries) does not fit this record")
            }
            return known.count
        }
        let scale = Double(scale)
        var recordSums = Sums(inputs: inputDimension, outputs: outputDimension)
        record.input.withPointer { x in
            record.gradOutput.withPointer { dy in
                switch record.layer {
                case .conv2d(let shape):
                    recordSums.addConv(input: x, gradOutput: dy, hasBias: hasBias, shape: shape, scale: scale,
                                       inputFrom: inputSum == nil ? known ?? 0 : nil, profile: profile)
                    positions += shape.batch * shape.pixels
                case .linear(let batch, let inputs, _):
                    ScoringProfile.measure(profile, .otherLayers) {
                        recordSums.addLinear(input: x, gradOutput: dy, hasBias: hasBias, batch: batch, inputs: inputs,
                                             scale: scale)
                    }
                    positions += batch
                case .batchNorm: break  // rejected by `dimensions`
                }
            }
        }
        if let inputSum { recordSums.input = inputSum }
        if let knownChannels {
            recordSums.input.addEmbedded(knownChannels.sum, from: 9 * knownChannels.count, to: inputDimension - (hasBias ? 1 : 0),
                                         hasBias: hasBias)
        }
        sums.add(recordSums)
        examples += record.batch
        return recordSums.input
    }

    /// Every process's sums added together (a data-parallel score: each
    /// process accumulated its share of the examples).
    public mutating func sum(over processes: any Collective) {
        let summed = processes.sum([sums.input, sums.outputGradient, sums.gradient,
                                    [Double(examples), Double(positions)]])
        (sums.input, sums.outputGradient, sums.gradient) = (summed[0], summed[1], summed[2])
        (examples, positions) = (Int(summed[3][0]), Int(summed[3][1]))
    }

    // MARK: The factors (zero before any example)

    /// Ω (I×I, row-major).
    public var inputFactor: [Double] { sums.input.symmetrised(dimension: inputDimension, dividedBy: examples) }
    /// Γ (O×O, row-major).
    public var outputGradientFactor: [Double] {
        sums.outputGradient.symmetrised(dimension: outputDimension, dividedBy: positions)
    }
    /// Ḡ (O×I, row-major; the bias gradient, if any, in the last column).
    public var meanGradient: [Double] { sums.gradient.map { $0 / Double(max(examples, 1)) } }

    // MARK: Natural score

    /// The natural score η = vec(Ḡ)ᵀ (Ω_d ⊗ Γ_d)⁻¹ vec(Ḡ): the mean gradient
    /// measured by the inverse of the approximate Fisher (ḡᵀF⁻¹ḡ). Since
    /// (Ω ⊗ Γ)⁻¹ vec(Ḡ) = vec(Γ⁻¹ Ḡ Ω⁻¹) for symmetric factors,
    ///
    ///     η = Σᵢⱼ (Γ_d⁻¹ Ḡ)ᵢⱼ (Ḡ Ω_d⁻¹)ᵢⱼ,
    ///
    /// two Cholesky solves with O and I right-hand sides; the (O·I)² matrix
    /// is never formed.
    ///
    /// Damping λ is factored Tikhonov damping (Martens & Grosse 2015): damping
    /// the product by λ·I would break the Kronecker structure, so each factor
    /// gets a share, Ω_d = Ω + π√λ·I and Γ_d = Γ + (√λ/π)·I, with
    /// π = √((tr Ω / I) / (tr Γ / O)) matching the shares to the factors'
    /// average eigenvalues (Ω_d ⊗ Γ_d = Ω⊗Γ + π√λ·I⊗Γ + (√λ/π)·Ω⊗I + λ·I).
    /// When either trace is zero (no input signal, or no gradient reaching
    /// the layer) the ratio says nothing about scale and π = 1: both factors
    /// then get √λ, which keeps them positive definite for λ > 0.
    ///
    /// Throws `NotPositiveDefiniteError` when a damped factor is not
    /// numerically positive definite (λ = 0, or far below the factors' scale).
    public func naturalScore(damping: Double) throws -> Double {
        try naturalScoreAndEffectiveParameters(damping: damping).score
    }

    /// η (`naturalScore(damping:)`) and the parameters the damped factors
    /// resolve, tr(F_d⁻¹F) = tr(Ω_d⁻¹Ω)·tr(Γ_d⁻¹Γ) for F = Ω⊗Γ and
    /// F_d = Ω_d⊗Γ_d: each eigen-direction counts λ/(λ + d) ≤ 1, so directions
    /// far below the damping count for nothing. It sizes η's sampling noise
    /// (`NaturalScore.unbiasedEta`).
    public func naturalScoreAndEffectiveParameters(damping: Double) throws
        -> (score: Double, effectiveParameters: Double) {
        precondition(damping >= 0 && damping.isFinite, "naturalScore: damping \(damping) must be finite and ≥ 0")
        let (i, o) = (inputDimension, outputDimension)
        let omega = inputFactor, gamma = outputGradientFactor, gradient = meanGradient
        let root = damping.squareRoot(), pi = Self.dampingSplit(omega: omega, i, gamma: gamma, o)
        let omegaFactor = try CholeskyFactor(omega.addingDiagonal(pi * root, dimension: i), dimension: i,
                                             name: "K-FAC input factor Ω of \(weightPath), damping \(damping)")
        let gammaFactor = try CholeskyFactor(gamma.addingDiagonal(root / pi, dimension: o), dimension: o,
                                             name: "K-FAC output-gradient factor Γ of \(weightPath), damping \(damping)")
        // Rows of Ḡ are the vectors: Ḡ Ω_d⁻¹ (O×I). Rows of Ḡᵀ, the columns of Ḡ: (Γ_d⁻¹ Ḡ)ᵀ (I×O).
        let rightSolved = omegaFactor.solve(gradient)
        let leftSolvedTransposed = gammaFactor.solve(gradient.transposed(rows: o, columns: i))
        var score = 0.0
        for row in 0..<o {
            for column in 0..<i { score += rightSolved[row * i + column] * leftSolvedTransposed[column * o + row] }
        }
        // With Ω_d = Ω + a·I: tr(Ω_d⁻¹Ω) = tr(I − a·Ω_d⁻¹) = I − a·tr(Ω_d⁻¹); likewise for Γ.
        let omegaResolved = Double(i) - pi * root * omegaFactor.traceOfInverse()
        let gammaResolved = Double(o) - root / pi * gammaFactor.traceOfInverse()
        return (score, omegaResolved * gammaResolved)
    }

    /// π of the factored damping, 1 when either factor's trace is zero.
    private static func dampingSplit(omega: [Double], _ i: Int, gamma: [Double], _ o: Int) -> Double {
        let omegaMean = (0..<i).reduce(0.0) { $0 + omega[$1 * i + $1] } / Double(i)
        let gammaMean = (0..<o).reduce(0.0) { $0 + gamma[$1 * o + $1] } / Double(o)
        let pi = (omegaMean / gammaMean).squareRoot()
        return omegaMean > 0 && gammaMean > 0 && pi.isFinite && pi > 0 ? pi : 1
    }
}

/// The three sums of `KroneckerFactors`, in Double, and how a record adds
/// to them. The symmetric ones, Σaaᵀ and Σssᵀ, hold their upper triangle
/// only (the lower one stays zero): half the additions per image, and no
/// mirroring until the factor is read.
private struct Sums {
    var input: [Double], outputGradient: [Double], gradient: [Double]
    let inputs: Int, outputs: Int

    init(inputs: Int, outputs: Int) {
        self.inputs = inputs
        self.outputs = outputs
        input = Array(repeating: 0, count: inputs * inputs)
        outputGradient = Array(repeating: 0, count: outputs * outputs)
        gradient = Array(repeating: 0, count: outputs * inputs)
    }

    /// Adds another record's sums.
    mutating func add(_ other: Sums) {
        for (target, source) in [(\Sums.input, other.input), (\.outputGradient, other.outputGradient),
                                 (\.gradient, other.gradient)] {
            self[keyPath: target].withUnsafeMutableBufferPointer { sum in
                source.withUnsafeBufferPointer { addInPlace($0.baseAddress!, into: sum.baseAddress!, count: sum.count) }
            }
        }
    }

    /// Adds the GEMM products of a batch: Σaaᵀ as is, Σssᵀ times scale² and
    /// Σsaᵀ times scale (the gradients were recorded unscaled).
    mutating func add<T: TensorScalar>(_ products: ProductScratch<T>, scale: Double) {
        input.withUnsafeMutableBufferPointer { Self.addUpper(products.input, into: $0, dimension: inputs, factor: 1) }
        outputGradient.withUnsafeMutableBufferPointer {
            Self.addUpper(products.outputGradient, into: $0, dimension: outputs, factor: scale * scale)
        }
        gradient.withUnsafeMutableBufferPointer { sum in
            for k in sum.indices { sum[k] += Double(products.gradient[k]) * scale }
        }
    }

    /// Adds the upper triangle of the n×n `source` (what syrk wrote) to `sum`'s.
    @inline(__always)
    fileprivate static func addUpper<T: TensorScalar>(_ source: UnsafeMutablePointer<T>, into sum: UnsafeMutableBufferPointer<Double>,
                                                  dimension n: Int, factor: Double) {
        for row in 0..<n {
            for k in (row * n + row)..<(row * n + n) { sum[k] += Double(source[k]) * factor }
        }
    }

    /// Conv: Σaaᵀ (unless `inputFrom` is nil; its entries with a channel
    /// ≥ `inputFrom`) by `addConv3x3InputSum` for 3×3 kernels (shifted
    /// products of horizontal patches over groups of images), otherwise per
    /// image from A = im2col(xₙ) with a row of ones for the bias (I×T).
    /// Per image, S = dyₙ (O×T) gives SSᵀ (`addConvOutputGradientSum`), added
    /// in Double. Images are split across threads, each with its own partial
    /// sums, added in thread order (reproducible); Σaaᵀ and Σssᵀ in two
    /// passes over the images, so that `profile` can time them apart. Σsaᵀ
    /// is the sum of the per-example gradients, from
    /// `conv2dPerExampleGradientMoments` without the squares.
    @_specialize(where T == Float)
    mutating func addConv<T: TensorScalar>(
        input x: UnsafePointer<T>, gradOutput dy: UnsafePointer<T>, hasBias: Bool, shape s: Conv2dShape, scale: Double,
        inputFrom known: Int?, profile: ScoringProfile?
    ) {
        // One Sums each, built separately: threads must not share (copy-on-write) buffers.
        var partials = (0..<min(ComputeThreads.count, s.batch)).map { _ in Sums(inputs: inputs, outputs: outputs) }
        partials.withUnsafeMutableBufferPointer { partials in
            if let known {
                ScoringProfile.measure(profile, .convInputFactor) {
                    parallelChunks(s.batch) { chunk, images in
                        partials[chunk].input.withUnsafeMutableBufferPointer { sum in
                            if s.kernel == 3 {
                                addConv3x3InputSum(x, images: images, hasBias: hasBias, shape: s, knownChannels: known,
                                                   into: sum.baseAddress!)
                            } else {
                                Self.addConvInputSumByPatches(x, images: images, hasBias: hasBias, shape: s, into: sum)
                            }
                        }
                    }
                }
            }
            ScoringProfile.measure(profile, .convOutputFactor) {
                parallelChunks(s.batch) { chunk, images in
                    partials[chunk].addConvOutputGradientSum(dy, images: images, shape: s, scale: scale)
                }
            }
        }
        for partial in partials { add(partial) }
        // The moments come in (O,C,K,K) then the bias; Σsaᵀ's rows end with the bias.
        let (exampleSum, _) = ScoringProfile.measure(profile, .convGradientMoments) {
            conv2dPerExampleGradientMoments(input: x, gradOutput: dy, hasBias: hasBias, shape: s, scale: scale,
                                            squares: false)
        }
        for channel in 0..<outputs {
            for r in 0..<s.patchSize { gradient[channel * inputs + r] += exampleSum[channel * s.patchSize + r] }
            if hasBias { gradient[channel * inputs + s.patchSize] += exampleSum[s.weightCount + channel] }
        }
    }

    /// Σaaᵀ image by image over im2col with a row of ones (any kernel).
    private static func addConvInputSumByPatches<T: TensorScalar>(
        _ x: UnsafePointer<T>, images: Range<Int>, hasBias: Bool, shape s: Conv2dShape,
        into sum: UnsafeMutableBufferPointer<Double>
    ) {
        let (i, t) = (s.patchSize + (hasBias ? 1 : 0), s.pixels)
        let columns = UnsafeMutablePointer<T>.allocate(capacity: i * t)
        let product = UnsafeMutablePointer<T>.allocate(capacity: i * i)
        defer { columns.deallocate(); product.deallocate() }
        // im2col fills the first C·K·K rows; the bias row of ones stays.
        if hasBias { (columns + s.patchSize * t).initialize(repeating: 1, count: t) }
        for n in images {
            im2col(x + n * s.inputImageSize, columns, s)
            T.syrkUpper(transpose: false, n: i, k: t, alpha: 1, a: columns, lda: t, beta: 0, c: product, ldc: i)
            addUpper(product, into: sum, dimension: i, factor: 1)
        }
    }

    /// Σssᵀ (times scale²) over `images`: S = dyₙ (O×T) per image. Up to 40
    /// outputs, SSᵀ is a full GEMM in `smallGEMMBlock`s of columns rather
    /// than one syrk: OpenBLAS's small-matrix kernels take half syrk's time
    /// on these thin products even though they compute both triangles.
    private mutating func addConvOutputGradientSum<T: TensorScalar>(
        _ dy: UnsafePointer<T>, images: Range<Int>, shape s: Conv2dShape, scale: Double
    ) {
        let o = outputs, block = smallGEMMBlock(m: o, n: o, k: s.pixels)
        let product = UnsafeMutablePointer<T>.allocate(capacity: o * o)
        defer { product.deallocate() }
        outputGradient.withUnsafeMutableBufferPointer { sum in
            for n in images {
                let image = dy + n * s.outputImageSize
                if let block {
                    for first in stride(from: 0, to: s.pixels, by: block) {
                        T.gemm(transposeA: false, transposeB: true, m: o, n: o, k: min(block, s.pixels - first),
                               alpha: 1, a: image + first, lda: s.pixels, b: image + first, ldb: s.pixels,
                               beta: first == 0 ? 0 : 1, c: product, ldc: o)
                    }
                } else {
                    T.syrkUpper(transpose: false, n: o, k: s.pixels, alpha: 1, a: image, lda: s.pixels,
                                beta: 0, c: product, ldc: o)
                }
                Self.addUpper(product, into: sum, dimension: o, factor: scale * scale)
            }
        }
    }

    /// Linear: X (N×I, with a column of ones for the bias) and S = dy
    /// (N×O); XᵀX, SᵀS and SᵀX over the whole batch, one GEMM each.
    @_specialize(where T == Float)
    mutating func addLinear<T: TensorScalar>(
        input x: UnsafePointer<T>, gradOutput dy: UnsafePointer<T>, hasBias: Bool, batch: Int, inputs layerInputs: Int,
        scale: Double
    ) {
        let (i, o) = (inputs, outputs)
        var extended = [T](repeating: 1, count: hasBias ? batch * i : 0)
        if hasBias {
            for n in 0..<batch {
                for k in 0..<layerInputs { extended[n * i + k] = x[n * layerInputs + k] }
            }
        }
        func products(_ a: UnsafePointer<T>) {
            ProductScratch<T>.with(inputs: i, outputs: o) { products in
                products.compute(inputs: a, gradients: dy, samples: batch)
                add(products, scale: scale)
            }
        }
        if hasBias { extended.withUnsafeBufferPointer { products($0.baseAddress!) } } else { products(x) }
    }
}

/// A linear layer's GEMM outputs in the record's scalar type: AᵀA (I×I)
/// and SᵀS (O×O), upper triangles only, and SᵀA (O×I).
private struct ProductScratch<T: TensorScalar> {
    let input: UnsafeMutablePointer<T>, outputGradient: UnsafeMutablePointer<T>, gradient: UnsafeMutablePointer<T>
    let inputs: Int, outputs: Int

    /// The three products over `samples` rows of A (I features) and S (O features).
    func compute(inputs a: UnsafePointer<T>, gradients g: UnsafePointer<T>, samples: Int) {
        let (i, o) = (inputs, outputs)
        // XᵀX through syrk (half the work of a GEMM): the upper triangle only.
        T.syrkUpper(transpose: true, n: i, k: samples, alpha: 1, a: a, lda: i, beta: 0, c: input, ldc: i)
        T.syrkUpper(transpose: true, n: o, k: samples, alpha: 1, a: g, lda: o, beta: 0, c: outputGradient, ldc: o)
        T.gemm(transposeA: true, transposeB: false, m: o, n: i, k: samples, alpha: 1,
               a: g, lda: o, b: a, ldb: i, beta: 0, c: gradient, ldc: i)
    }

    static func with(inputs i: Int, outputs o: Int, _ body: (ProductScratch<T>) -> Void) {
        let input = UnsafeMutablePointer<T>.allocate(capacity: i * i)
        let outputGradient = UnsafeMutablePointer<T>.allocate(capacity: o * o)
        let gradient = UnsafeMutablePointer<T>.allocate(capacity: o * i)
        defer { input.deallocate(); outputGradient.deallocate(); gradient.deallocate() }
        body(ProductScratch(input: input, outputGradient: outputGradient, gradient: gradient, inputs: i, outputs: o))
    }
}

extension Array where Element == Double {
    /// Adds the upper triangle of `known`, the sum over the first of this
    /// sum's patch entries (`from` of `to`, each then the bias when there is
    /// one), to the same entries of this one: the patch entries keep their
    /// indices, the bias moves from `from` to `to`.
    fileprivate mutating func addEmbedded(_ known: [Double], from: Int, to: Int, hasBias: Bool) {
        let (old, new) = (from + (hasBias ? 1 : 0), to + (hasBias ? 1 : 0))
        let index = { (i: Int) in i < from ? i : to }
        for i in 0..<old {
            for j in i..<old { self[index(i) * new + index(j)] += known[i * old + j] }
        }
    }

    /// The full n×n matrix whose upper triangle this one holds, divided by `count` (by 1 when it is 0).
    fileprivate func symmetrised(dimension n: Int, dividedBy count: Int) -> [Double] {
        let divisor = Double(Swift.max(count, 1))
        var result = self
        for row in 0..<n {
            for column in row..<n {
                result[row * n + column] = self[row * n + column] / divisor
                result[column * n + row] = result[row * n + column]
            }
        }
        return result
    }

    /// A copy of this n×n row-major matrix plus `value` on the diagonal.
    fileprivate func addingDiagonal(_ value: Double, dimension n: Int) -> [Double] {
        var result = self
        for k in 0..<n { result[k * n + k] += value }
        return result
    }

    /// The transpose of this rows×columns row-major matrix.
    fileprivate func transposed(rows: Int, columns: Int) -> [Double] {
        var result = self
        for r in 0..<rows {
            for c in 0..<columns { result[c * rows + r] = self[r * columns + c] }
        }
        return result
    }
}
