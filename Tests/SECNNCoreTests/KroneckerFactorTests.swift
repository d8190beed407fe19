import SECNNCore
import XCTest
import _SECNNTestSupport

/// K-FAC/KFC factors against their definitions, written as scalar loops in
/// Double over patches read straight from the input (no im2col), and the
/// natural score against the dense Kronecker matrix inverted by Gauss–Jordan.
final class KroneckerFactorTests: XCTestCase {
    private var generator = SeededGenerator(seed: 11)

    // MARK: A small network

    /// conv 3×3 (2→3 channels) → leaky ReLU → 2×2 max pool → flatten (12)
    /// → linear (12→5) → cross-entropy: 57 and 65 parameters with biases.
    private struct Network {
        let convWeight: Tensor<Float>, convBias: Tensor<Float>, fcWeight: Tensor<Float>, fcBias: Tensor<Float>
        let bias: Bool

        init(bias: Bool, _ generator: inout SeededGenerator) {
            convWeight = randomTensor([3, 2, 3, 3], &generator, scale: 0.5)
            convBias = randomTensor([3], &generator)
            fcWeight = randomTensor([5, 12], &generator, scale: 0.3)
            fcBias = randomTensor([5], &generator)
            self.bias = bias
        }

        /// The graph after backward from the batch-mean loss, with its per-example records.
        func backward(_ images: Tensor<Float>, labels: [Int32], zeroSeed: Bool = false) -> Graph<Float> {
            let g = Graph<Float>(training: false)
            g.collectsPerExampleRecords = true
            var h = g.conv2d(g.input(images), weight: g.parameter(convWeight, path: "conv.weight"),
                             bias: bias ? g.parameter(convBias, path: "conv.bias") : nil)
            h = g.flatten(g.maxPool2x2(g.leakyReLU(h, slope: 0.2)))
            h = g.linear(h, weight: g.parameter(fcWeight, path: "fc.weight"),
                         bias: bias ? g.parameter(fcBias, path: "fc.bias") : nil)
            let loss = g.crossEntropy(h, labels: labels)
            if zeroSeed { g.backward(seeds: [(loss, Tensor(zeros: [1]))]) } else { g.backward(from: loss) }
            return g
        }
    }

    /// Two batches (3 and 2 images) through `network`: the records of each.
    private func batches(_ network: Network) -> [[PerExampleRecord<Float>]] {
        [([0, 4, 2] as [Int32]), [1, 3]].map { labels in
            let images: Tensor<Float> = randomTensor([labels.count, 2, 4, 4], &generator)
            return network.backward(images, labels: labels).perExampleRecords
        }
    }

    private func record(_ path: String, in records: [PerExampleRecord<Float>]) -> PerExampleRecord<Float> {
        guard let record = records.first(where: { $0.weightPath == path }) else {
            preconditionFailure("no record of \(path) among \(records.map(\.weightPath))")
        }
        return record
    }

    // MARK: The definitions, by explicit loops

    /// aₙₜ (with the trailing 1 when the layer has a bias) and sₙₜ = dyₙₜ · scale,
    /// indexed [n][t][component], read straight from the record's tensors.
    private func explicitTerms(_ record: PerExampleRecord<Float>, scale: Double)
        -> (patches: [[[Double]]], gradients: [[[Double]]]) {
        let x = record.input.scalars.map(Double.init), dy = record.gradOutput.scalars.map { Double($0) * scale }
        let one: [Double] = record.biasPath == nil ? [] : [1]
        switch record.layer {
        case .conv2d(let s):
            let (h, w, k, p) = (s.height, s.width, s.kernel, s.padding)
            var patches: [[[Double]]] = [], gradients: [[[Double]]] = []
            for n in 0..<s.batch {
                var examplePatches: [[Double]] = [], exampleGradients: [[Double]] = []
                for y in 0..<h {
                    for xx in 0..<w {
                        var a: [Double] = []
                        for c in 0..<s.inChannels {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let sy = y + ky - p, sx = xx + kx - p
                                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                                    a.append(inside ? x[((n * s.inChannels + c) * h + sy) * w + sx] : 0)
                                }
                            }
                        }
                        examplePatches.append(a + one)
                        exampleGradients.append((0..<s.outChannels).map { dy[((n * s.outChannels + $0) * h + y) * w + xx] })
                    }
                }
                patches.append(examplePatches)
                gradients.append(exampleGradients)
            }
            return (patches, gradients)
        case .linear(let batch, let inputs, let outputs):
            return ((0..<batch).map { n in [Array(x[n * inputs..<(n + 1) * inputs]) + one] },
                    (0..<batch).map { n in [Array(dy[n * outputs..<(n + 1) * outputs])] })
        case .batchNorm:
            preconditionFailure("batch norm has no Kronecker factors")
        }
    }

    /// Gₙ = Σₜ sₙₜ aₙₜᵀ (O×I, row-major).
    private func exampleGradient(patches: [[Double]], gradients: [[Double]]) -> [Double] {
        let (o, i) = (gradients[0].count, patches[0].count)
        var g = [Double](repeating: 0, count: o * i)
        for (a, s) in zip(patches, gradients) {
            for r in 0..<o {
                for c in 0..<i { g[r * i + c] += s[r] * a[c] }
            }
        }
        return g
    }

    /// Ω, Γ and Ḡ of the examples of `records` by their definitions.
    private func definitions(_ records: [PerExampleRecord<Float>])
        -> (omega: [Double], gamma: [Double], meanGradient: [Double]) {
        var omega: [Double] = [], gamma: [Double] = [], gradient: [Double] = []
        var examples = 0, positions = 0
        for record in records {
            let (patches, gradients) = explicitTerms(record, scale: Double(record.batch))
            for (exampleA, exampleS) in zip(patches, gradients) {
                let (i, o) = (exampleA[0].count, exampleS[0].count)
                if omega.isEmpty {
                    omega = Array(repeating: 0, count: i * i)
                    gamma = Array(repeating: 0, count: o * o)
                    gradient = Array(repeating: 0, count: o * i)
                }
                for (a, s) in zip(exampleA, exampleS) {
                    for r in 0..<i { for c in 0..<i { omega[r * i + c] += a[r] * a[c] } }
                    for r in 0..<o { for c in 0..<o { gamma[r * o + c] += s[r] * s[c] } }
                    positions += 1
                }
                let g = exampleGradient(patches: exampleA, gradients: exampleS)
                for k in g.indices { gradient[k] += g[k] }
                examples += 1
            }
        }
        return (omega.map { $0 / Double(examples) }, gamma.map { $0 / Double(positions) },
                gradient.map { $0 / Double(examples) })
    }

    private func factors(_ path: String, _ batches: [[PerExampleRecord<Float>]]) -> KroneckerFactors {
        var factors = KroneckerFactors(layerOf: record(path, in: batches[0]))
        for records in batches {
            let layer = record(path, in: records)
            factors.accumulate(layer, scale: Float(layer.batch))
        }
        return factors
    }

    // MARK: Factors

    func testFactorsMatchTheirDefinitions() {
        for bias in [true, false] {
            let batches = batches(Network(bias: bias, &generator))
            for (path, inputs, outputs) in [("conv.weight", 18, 3), ("fc.weight", 12, 5)] {
                let what = "\(path) bias \(bias)"
                let kfac = factors(path, batches)
                XCTAssertEqual(kfac.inputDimension, inputs + (bias ? 1 : 0), what)
                XCTAssertEqual(kfac.outputDimension, outputs, what)
                XCTAssertEqual(kfac.examples, 5, what)
                let expected = definitions(batches.map { record(path, in: $0) })
                assertClose(kfac.inputFactor, expected.omega, tolerance: 1e-5, "\(what): Ω")
                assertClose(kfac.outputGradientFactor, expected.gamma, tolerance: 1e-5, "\(what): Γ")
                assertClose(kfac.meanGradient, expected.meanGradient, tolerance: 1e-5, "\(what): Ḡ")
            }
        }
    }

    /// The conv factors over shapes the small network does not reach: one
    /// image row and one column (every padding correction at once), a width
    /// of 2, enough images at 8×8 for a full and a partial group of the input sum
    /// (`ConvInputFactor.swift`), 16 channels, a 1×1 kernel (im2col), and
    /// both ways of summing Γ: 3 outputs, 48 (syrk), and 24 over 48×48
    /// pixels (GEMMs over two blocks of columns).
    func testConvFactorsMatchTheirDefinitionsAcrossShapes() {
        for (batch, channels, height, width, kernel, outputs) in [
            (3, 2, 1, 1, 3, 3), (2, 3, 3, 2, 3, 3), (100, 2, 8, 8, 3, 3), (2, 16, 6, 8, 3, 48), (3, 4, 3, 3, 1, 3),
            (2, 2, 48, 48, 3, 24),
        ] {
            let what = "\(batch) images \(channels)×\(height)×\(width), kernel \(kernel), \(outputs) outputs"
            let images: Tensor<Float> = randomTensor([batch, channels, height, width], &generator)
            let weight: Tensor<Float> = randomTensor([outputs, channels, kernel, kernel], &generator, scale: 0.5)
            let bias: Tensor<Float> = randomTensor([outputs], &generator)
            let g = Graph<Float>(training: false)
            g.collectsPerExampleRecords = true
            let y = g.conv2d(g.input(images), weight: g.parameter(weight, path: "conv.weight"),
                             bias: g.parameter(bias, path: "conv.bias"))
            let classes = outputs * height * width
            g.backward(from: g.crossEntropy(g.reshape(y, to: [batch, classes]),
                                            labels: (0..<batch).map { Int32($0 % classes) }))
            let records = [record("conv.weight", in: g.perExampleRecords)]
            let kfac = factors("conv.weight", [records])
            let expected = definitions(records)
            assertClose(kfac.inputFactor, expected.omega, tolerance: 1e-5, "\(what): Ω")
            assertClose(kfac.outputGradientFactor, expected.gamma, tolerance: 1e-5, "\(what): Γ")
            assertClose(kfac.meanGradient, expected.meanGradient, tolerance: 1e-5, "\(what): Ḡ")
        }
    }

    /// A 3×3 conv whose input begins with the channels of another input
    /// (as after a widened block's first layer) given that input's sum as
    /// `knownChannels` computes only the other entries, and ends with the
    /// same Ω as from scratch: with and without a bias, over a partial group
    /// of images, for 1 known channel of 3 and 16 of 18.
    func testKnownChannelsGiveTheInputFactorFromScratch() {
        for (batch, known, channels, height, width) in [(5, 1, 3, 4, 6), (4, 16, 18, 8, 8)] {
            for bias in [true, false] {
                let what = "\(known) of \(channels) channels known, bias \(bias)"
                let images: Tensor<Float> = randomTensor([batch, channels, height, width], &generator)
                let first = Tensor<Float>(shape: [batch, known, height, width], scalars: (0..<batch).flatMap { n in
                    images.scalars[(n * channels * height * width)...].prefix(known * height * width)
                })
                func record(_ input: Tensor<Float>) -> PerExampleRecord<Float> {
                    let c = input.shape[1]
                    let g = Graph<Float>(training: false)
                    g.collectsPerExampleRecords = true
                    let y = g.conv2d(g.input(input), weight: g.parameter(randomTensor([2, c, 3, 3], &generator), path: "conv.weight"),
                                     bias: bias ? g.parameter(randomTensor([2], &generator), path: "conv.bias") : nil)
                    g.backward(from: g.crossEntropy(g.reshape(y, to: [batch, 2 * height * width]),
                                                    labels: (0..<batch).map { Int32($0) }))
                    return g.perExampleRecords[0]
                }
                var knownFactors = KroneckerFactors(layerOf: record(first))
                let knownSum = knownFactors.accumulate(record(first), scale: Float(batch))
                let grown = record(images)
                var fromScratch = KroneckerFactors(layerOf: grown), fromKnown = KroneckerFactors(layerOf: grown)
                let scratchSum = fromScratch.accumulate(grown, scale: Float(batch))
                let knownSumGrown = fromKnown.accumulate(grown, scale: Float(batch), knownChannels: (known, knownSum))
                // Equal but for Float rounding: the known channels' products came from other GEMMs.
                assertClose(fromKnown.inputFactor, fromScratch.inputFactor, tolerance: 1e-6, "\(what): Ω")
                assertClose(knownSumGrown, scratchSum, tolerance: 1e-6, "\(what): the sum handed back")
                assertClose(fromKnown.inputFactor, definitions([grown]).omega, tolerance: 1e-5, "\(what): Ω by definition")
            }
        }
    }

    /// Σₜ sₙₜ aₙₜᵀ from the explicit patches equals the recorded per-example
    /// gradient [W | b] (same `scale`): the conventions of the factors are
    /// those of the layer's parameters.
    func testExplicitPatchesRebuildThePerExampleGradients() {
        for bias in [true, false] {
            let records = batches(Network(bias: bias, &generator))[0]
            for path in ["conv.weight", "fc.weight"] {
                let layer = record(path, in: records)
                let scale = Double(layer.batch)
                let (patches, gradients) = explicitTerms(layer, scale: scale)
                layer.forEachExample(scale: Float(scale)) { n, weight, biasGradient in
                    let outputs = gradients[n][0].count, columns = weight.count / outputs
                    var recorded: [Float] = []
                    for o in 0..<outputs {
                        recorded += weight[o * columns..<(o + 1) * columns]
                        if let biasGradient { recorded.append(biasGradient[o]) }
                    }
                    assertClose(recorded, exampleGradient(patches: patches[n], gradients: gradients[n]).map { Float($0) },
                                tolerance: 1e-5, "\(path) bias \(bias) example \(n)")
                }
            }
        }
    }

    // MARK: Natural score

    /// vᵀ(Ω_d ⊗ Γ_d)⁻¹v with the (O·I)² matrix built entry by entry:
    /// vec stacks the columns of the O×I gradient, so entry (j·O+i, l·O+k) is Ω_d[j,l]·Γ_d[i,k].
    private func denseNaturalScore(_ kfac: KroneckerFactors, damping: Double) -> Double {
        let (i, o) = (kfac.inputDimension, kfac.outputDimension), g = kfac.meanGradient
        // vec(Ḡ) in the dense matrices' (input j, output r) → j·O + r order.
        let v = (0..<(i * o)).map { g[($0 % o) * i + $0 / o] }
        let x = gaussJordanSolve(denseFactors(kfac, damping: damping).damped, v)
        return zip(v, x).map(*).reduce(0, +)
    }

    /// x = A⁻¹b by Gauss–Jordan elimination with partial pivoting.
    private func gaussJordanSolve(_ matrix: [Double], _ b: [Double]) -> [Double] {
        let n = b.count
        var a = matrix, x = b
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
            if pivot != column {
                for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
                x.swapAt(pivot, column)
            }
            let diagonal = a[column * n + column]
            for k in 0..<n { a[column * n + k] /= diagonal }
            x[column] /= diagonal
            for row in 0..<n where row != column {
                let factor = a[row * n + column]
                guard factor != 0 else { continue }
                for k in 0..<n { a[row * n + k] -= factor * a[column * n + k] }
                x[row] -= factor * x[column]
            }
        }
        return x
    }

    func testNaturalScoreMatchesDenseKroneckerInverse() throws {
        for bias in [true, false] {
            let batches = batches(Network(bias: bias, &generator))
            for path in ["conv.weight", "fc.weight"] {
                let kfac = factors(path, batches)
                XCTAssertLessThanOrEqual(kfac.inputDimension * kfac.outputDimension, 300)
                for damping in [1e-3, 0.1, 1] {
                    let what = "\(path) bias \(bias) damping \(damping)"
                    let score = try kfac.naturalScore(damping: damping)
                    let dense = denseNaturalScore(kfac, damping: damping)
                    XCTAssertGreaterThan(dense, 0, what)
                    XCTAssertLessThanOrEqual(abs(score - dense) / dense, 1e-4, "\(what): \(score) vs dense \(dense)")
                }
            }
        }
    }

    /// P_eff = tr(F_d⁻¹F) for F = Ω⊗Γ, F_d = Ω_d⊗Γ_d, from the dense
    /// (O·I)² matrices: the columns of F solved one by one.
    func testEffectiveParametersMatchDenseTrace() throws {
        let batches = batches(Network(bias: true, &generator))
        for path in ["conv.weight", "fc.weight"] {
            let kfac = factors(path, batches)
            for damping in [1e-3, 0.1] {
                let (i, o) = (kfac.inputDimension, kfac.outputDimension), p = i * o
                let dense = denseFactors(kfac, damping: damping)
                var trace = 0.0
                for column in 0..<p {
                    let x = gaussJordanSolve(dense.damped, (0..<p).map { dense.plain[$0 * p + column] })
                    trace += x[column]
                }
                let both = try kfac.naturalScoreAndEffectiveParameters(damping: damping)
                XCTAssertEqual(both.score, try kfac.naturalScore(damping: damping))
                XCTAssertEqual(both.effectiveParameters, trace, accuracy: 1e-6 * trace, "\(path) damping \(damping)")
                XCTAssertLessThan(both.effectiveParameters, Double(p), "each direction counts less than 1")
            }
        }
    }

    /// Ω⊗Γ and Ω_d⊗Γ_d as dense (O·I)² row-major matrices, indexed (input j, output r) → j·O + r.
    private func denseFactors(_ kfac: KroneckerFactors, damping: Double) -> (plain: [Double], damped: [Double]) {
        let (i, o) = (kfac.inputDimension, kfac.outputDimension), p = i * o
        let omega = kfac.inputFactor, gamma = kfac.outputGradientFactor
        let omegaTrace = (0..<i).map { omega[$0 * i + $0] }.reduce(0, +)
        let gammaTrace = (0..<o).map { gamma[$0 * o + $0] }.reduce(0, +)
        let pi = ((omegaTrace / Double(i)) / (gammaTrace / Double(o))).squareRoot()
        var plain = [Double](repeating: 0, count: p * p), damped = plain
        for j in 0..<i {
            for r in 0..<o {
                for l in 0..<i {
                    for k in 0..<o {
                        let index = (j * o + r) * p + l * o + k
                        plain[index] = omega[j * i + l] * gamma[r * o + k]
                        damped[index] = (omega[j * i + l] + (j == l ? pi * damping.squareRoot() : 0))
                            * (gamma[r * o + k] + (r == k ? damping.squareRoot() / pi : 0))
                    }
                }
            }
        }
        return (plain, damped)
    }

    /// With no gradient reaching the layer, Γ = 0: the damping split falls
    /// back to π = 1 and the score is 0, not NaN.
    func testNaturalScoreWithoutGradient() throws {
        let network = Network(bias: true, &generator)
        let images: Tensor<Float> = randomTensor([3, 2, 4, 4], &generator)
        let records = network.backward(images, labels: [0, 1, 2], zeroSeed: true).perExampleRecords
        for path in ["conv.weight", "fc.weight"] {
            let kfac = factors(path, [records])
            XCTAssertEqual(kfac.outputGradientFactor, Array(repeating: 0, count: kfac.outputDimension * kfac.outputDimension))
            XCTAssertGreaterThan(kfac.inputFactor.max()!, 0, path)
            XCTAssertEqual(try kfac.naturalScore(damping: 1e-3), 0, path)
        }
        // Undamped, the conv's Ω is full rank (48 positions, 19 inputs) and Γ = 0 fails at once; the error says which.
        XCTAssertThrowsError(try factors("conv.weight", [records]).naturalScore(damping: 0)) { error in
            XCTAssertEqual(String(describing: error),
                           "K-FAC output-gradient factor Γ of conv.weight, damping 0.0 (3×3) is not positive definite: "
                               + "its leading minor of order 1 is not positive")
        }
    }

    // MARK: Cholesky

    func testCholeskySolvesEveryRightHandSide() throws {
        let n = 4
        let m = (0..<n * n).map { _ in generator.nextNormal() }
        // A = MMᵀ + I, symmetric positive definite.
        var a = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n { a[r * n + c] = (0..<n).map { m[r * n + $0] * m[c * n + $0] }.reduce(0, +) + (r == c ? 1 : 0) }
        }
        let vectors = (0..<3 * n).map { _ in generator.nextNormal() }
        let solutions = try CholeskyFactor(a, dimension: n).solve(vectors)
        for k in 0..<3 {
            let x = Array(solutions[k * n..<(k + 1) * n])
            let ax = (0..<n).map { r in (0..<n).map { a[r * n + $0] * x[$0] }.reduce(0, +) }
            assertClose(ax, Array(vectors[k * n..<(k + 1) * n]), tolerance: 1e-12, "A·x for right-hand side \(k)")
        }
        // tr(A⁻¹) from the factor against the columns of A⁻¹ solved one by one.
        let identity = (0..<n * n).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        let inverse = try CholeskyFactor(a, dimension: n).solve(identity)
        let trace = (0..<n).reduce(0.0) { $0 + inverse[$1 * n + $1] }
        XCTAssertEqual(try CholeskyFactor(a, dimension: n).traceOfInverse(), trace, accuracy: 1e-12 * trace)
    }

    func testCholeskyReportsNonPositiveDefiniteMatrix() {
        // Eigenvalues 3 and −1: the first minor (1) is positive, the second (1 − 4) is not.
        XCTAssertThrowsError(try CholeskyFactor([1, 2, 2, 1], dimension: 2, name: "test matrix")) { error in
            let failure = error as? NotPositiveDefiniteError
            XCTAssertEqual(failure?.minor, 2)
            XCTAssertEqual(failure?.dimension, 2)
            XCTAssertEqual(String(describing: error),
                           "test matrix (2×2) is not positive definite: its leading minor of order 2 is not positive")
        }
    }
}
