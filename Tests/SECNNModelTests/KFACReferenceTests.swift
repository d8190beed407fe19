import SECNNCore
import SECNNModel
import XCTest
import _SECNNTestSupport

/// The model-level K-FAC score against its definition, built from loops and
/// dense matrices: for every conv and linear layer, Ω, Γ and Ḡ summed
/// position by position from batch-of-one passes, the damped Kronecker
/// product Ω_d ⊗ Γ_d formed in full and solved by Gaussian elimination; for
/// batch norm, the diagonal from batch-of-one parameter gradients. All in
/// Double, against the scorer on the Float model.
final class KFACReferenceTests: XCTestCase {
    private let damping = 1e-3, epsilon = 1e-12

    func testModelLevelKFACScoreEqualsDenseReference() throws {
        var generator = SeededGenerator(seed: 17)
        let spec = try ArchitectureSpec(parsing: "2x2,3x1", inputChannels: 1, inputHeight: 4, inputWidth: 4, classes: 3)
        let network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        let count = 6
        let images = LabeledImages(images: (0..<(count * 16)).map { _ in Float(generator.nextNormal()) },
                                   labels: (0..<count).map { _ in Int32(generator.next() % 3) },
                                   channels: 1, height: 4, width: 4)
        let double = try SECNNNetwork<Double>(
            spec: spec, tensors: Dictionary(uniqueKeysWithValues: network.state.entries.map {
                ($0.path, Tensor<Double>(shape: $0.tensor.shape, scalars: $0.tensor.scalars.map(Double.init)))
            }), source: "double")

        var layers: [String: Layer] = [:]
        var batchNorm: [String: (sum: [Double], square: [Double])] = [:]
        for n in 0..<count {
            var model = double
            let (image, label) = images.batch([n][...])
            let graph = Graph<Double>(training: false)
            graph.collectsPerExampleRecords = true
            let (logits, _) = model.forward(graph, images: Tensor(shape: image.shape, scalars: image.scalars.map(Double.init)))
            graph.backward(from: graph.crossEntropy(logits, labels: label))
            let gradients = graph.parameterGradients()
            for record in graph.perExampleRecords {
                switch record.layer {
                case .conv2d(let shape):
                    layers[record.weightPath, default: Layer()].add(conv: shape, input: record.input.scalars,
                                                                    gradOutput: record.gradOutput.scalars,
                                                                    bias: record.biasPath != nil)
                case .linear:
                    layers[record.weightPath, default: Layer()].add(
                        inputs: [record.input.scalars + (record.biasPath != nil ? [1] : [])],
                        gradients: [record.gradOutput.scalars])
                case .batchNorm:
                    for path in [record.weightPath, record.biasPath!] {
                        let g = gradients[path]!.scalars
                        var entry = batchNorm[path] ?? (Array(repeating: 0, count: g.count), Array(repeating: 0, count: g.count))
                        for i in g.indices { entry.sum[i] += g[i]; entry.square[i] += g[i] * g[i] }
                        batchNorm[path] = entry
                    }
                }
            }
        }
        XCTAssertEqual(layers.count, 6, "3 convs, the mix conv, fc1 and fc2")
        XCTAssertEqual(batchNorm.count, 2 * 5, "γ and β of 3 block and 2 head batch norms")

        var expected = 0.0
        for layer in layers.values { expected += layer.score(examples: count, damping: damping) }
        for entry in batchNorm.values {
            for i in entry.sum.indices {
                let mean = entry.sum[i] / Double(count), fisher = entry.square[i] / Double(count)
                expected += mean * mean / (fisher + epsilon)
            }
        }
        let options = ScoringOptions(fisher: NaturalScoreSettings(method: .kfac, epsilon: epsilon, damping: damping),
                                     subsetSize: count, chunkSize: 4)
        let score = try CandidateScorer(options: options, subset: images).score(network)
        XCTAssertEqual(score.eta, expected, accuracy: 1e-4 * expected)
    }

    /// Σ aaᵀ, Σ ssᵀ and Σ saᵀ of one layer, in dense row-major arrays.
    private struct Layer {
        var omega: [Double] = [], gamma: [Double] = [], gradient: [Double] = []
        var inputs = 0, outputs = 0, positions = 0

        /// A conv's example: at every output position t, aₜ = the 3×3 (or 1×1) patch of the input in
        /// (channel, row, column) order, zero outside the image, plus a 1 for the bias; sₜ = the output gradient.
        mutating func add(conv s: Conv2dShape, input: [Double], gradOutput: [Double], bias: Bool) {
            var patches: [[Double]] = [], gradients: [[Double]] = []
            for y in 0..<s.height {
                for x in 0..<s.width {
                    var a: [Double] = []
                    for c in 0..<s.inChannels {
                        for ky in 0..<s.kernel {
                            for kx in 0..<s.kernel {
                                let (iy, ix) = (y + ky - s.padding, x + kx - s.padding)
                                let inside = (0..<s.height).contains(iy) && (0..<s.width).contains(ix)
                                a.append(inside ? input[(c * s.height + iy) * s.width + ix] : 0)
                            }
                        }
                    }
                    patches.append(a + (bias ? [1] : []))
                    gradients.append((0..<s.outChannels).map { gradOutput[($0 * s.height + y) * s.width + x] })
                }
            }
            add(inputs: patches, gradients: gradients)
        }

        /// One example's positions: its inputs aₜ and output gradients sₜ.
        mutating func add(inputs a: [[Double]], gradients s: [[Double]]) {
            let (i, o) = (a[0].count, s[0].count)
            if omega.isEmpty {
                (inputs, outputs) = (i, o)
                omega = Array(repeating: 0, count: i * i)
                gamma = Array(repeating: 0, count: o * o)
                gradient = Array(repeating: 0, count: o * i)
            }
            for t in a.indices {
                for p in 0..<i { for q in 0..<i { omega[p * i + q] += a[t][p] * a[t][q] } }
                for p in 0..<o { for q in 0..<o { gamma[p * o + q] += s[t][p] * s[t][q] } }
                for p in 0..<o { for q in 0..<i { gradient[p * i + q] += s[t][p] * a[t][q] } }
            }
            positions += a.count
        }

        /// vec(Ḡ)ᵀ (Ω_d ⊗ Γ_d)⁻¹ vec(Ḡ), the (O·I)² matrix formed in full.
        func score(examples n: Int, damping: Double) -> Double {
            let (i, o) = (inputs, outputs)
            let omega = self.omega.map { $0 / Double(n) }, gamma = self.gamma.map { $0 / Double(positions) }
            let mean = gradient.map { $0 / Double(n) }
            let omegaMean = (0..<i).reduce(0.0) { $0 + omega[$1 * i + $1] } / Double(i)
            let gammaMean = (0..<o).reduce(0.0) { $0 + gamma[$1 * o + $1] } / Double(o)
            let pi = omegaMean > 0 && gammaMean > 0 ? (omegaMean / gammaMean).squareRoot() : 1
            let root = damping.squareRoot()
            // vec stacks Ḡ's columns: entry (q, p) of vec is Ḡ[p][q] at q·O + p.
            let size = i * o
            var matrix = Array(repeating: 0.0, count: size * size), vector = Array(repeating: 0.0, count: size)
            for q in 0..<i {
                for p in 0..<o {
                    vector[q * o + p] = mean[p * i + q]
                    for r in 0..<i {
                        for s in 0..<o {
                            let omegaD = omega[q * i + r] + (q == r ? pi * root : 0)
                            let gammaD = gamma[p * o + s] + (p == s ? root / pi : 0)
                            matrix[(q * o + p) * size + r * o + s] = omegaD * gammaD
                        }
                    }
                }
            }
            let solution = solve(matrix, vector, size)
            return zip(vector, solution).reduce(0) { $0 + $1.0 * $1.1 }
        }

        /// x with M x = b, by Gaussian elimination with partial pivoting.
        private func solve(_ m: [Double], _ b: [Double], _ n: Int) -> [Double] {
            var a = m, x = b
            for column in 0..<n {
                let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
                if pivot != column {
                    for k in 0..<n { a.swapAt(column * n + k, pivot * n + k) }
                    x.swapAt(column, pivot)
                }
                for row in (column + 1)..<n {
                    let factor = a[row * n + column] / a[column * n + column]
                    for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
                    x[row] -= factor * x[column]
                }
            }
            for row in stride(from: n - 1, through: 0, by: -1) {
                for k in (row + 1)..<n { x[row] -= a[row * n + k] * x[k] }
                x[row] /= a[row * n + row]
            }
            return x
        }
    }
}
