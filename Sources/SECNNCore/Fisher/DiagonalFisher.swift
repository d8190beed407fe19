/// The diagonal empirical Fisher of a set of parameters and the natural
/// score it gives, accumulated from per-example gradients.
///
/// With gₙ the gradient of example n's own loss (n = 1…N):
///
///     ḡ = (1/N) Σₙ gₙ,   Fᵢᵢ = (1/N) Σₙ gₙ,ᵢ²,   η = Σᵢ ḡᵢ² / (Fᵢᵢ + ε)
///
/// The Fisher must come from per-example gradients: built from one
/// mini-batch gradient instead, each term ḡᵢ²/ḡᵢ² is ≈ 1 and η merely
/// counts parameters. By Cauchy–Schwarz each term is at most 1, so η lies
/// in [0, P]: it measures how many parameter directions agree across the
/// examples. ε only guards parameters whose gradient is 0 for every
/// example; it is absolute, so keep it far below the Fisher's entries
/// (the natural score is otherwise unchanged by rescaling a parameter).
///
/// Sums are kept in Double: they run over hundreds of examples whose
/// squared gradients span many orders of magnitude.
public struct DiagonalFisher: Sendable {
    struct Sums: Sendable {
        var gradient: [Double]
        var square: [Double]
        var examples = 0
    }

    private(set) var sums: [String: Sums] = [:]

    public init() {}

    /// Adds the examples of one layer's record: its weight (and bias) paths.
    /// `scale` turns the recorded gradients of a mean loss into per-example
    /// loss gradients (the batch size).
    @_specialize(where T == Float)
    public mutating func accumulate<T: TensorScalar>(_ record: PerExampleRecord<T>, scale: T) {
        // Scaled here, in Double, rather than by `forEachExample(scale:)`, which would copy each gradient.
        let scale = Double(scale)
        if case .conv2d(let shape) = record.layer {
            // The costly layers: moments straight from the per-image GEMMs, on every core.
            let (sum, square) = record.input.withPointer { x in
                record.gradOutput.withPointer { dy in
                    conv2dPerExampleGradientMoments(input: x, gradOutput: dy, hasBias: record.biasPath != nil,
                                                    shape: shape, scale: scale)
                }
            }
            add(sum: sum[..<shape.weightCount], square: square[..<shape.weightCount], examples: shape.batch,
                to: record.weightPath)
            if let biasPath = record.biasPath {
                add(sum: sum[shape.weightCount...], square: square[shape.weightCount...], examples: shape.batch,
                    to: biasPath)
            }
            return
        }
        record.forEachExample { _, weight, bias in
            add(weight, to: record.weightPath, scale: scale)
            if let bias, let biasPath = record.biasPath { add(bias, to: biasPath, scale: scale) }
        }
    }

    /// Adds one example's gradient (times `scale`) of the parameter at `path`.
    @_specialize(where T == Float)
    public mutating func add<T: TensorScalar>(_ gradient: UnsafeBufferPointer<T>, to path: String, scale: Double = 1) {
        var entry = sums.removeValue(forKey: path)
            ?? Sums(gradient: Array(repeating: 0, count: gradient.count), square: Array(repeating: 0, count: gradient.count))
        precondition(entry.gradient.count == gradient.count,
                     "DiagonalFisher: \(path) had \(entry.gradient.count) values, now \(gradient.count)")
        entry.gradient.withUnsafeMutableBufferPointer { sum in
            entry.square.withUnsafeMutableBufferPointer { square in
                for i in gradient.indices {
                    let g = Double(gradient[i]) * scale
                    sum[i] += g
                    square[i] += g * g
                }
            }
        }
        entry.examples += 1
        sums[path] = entry
    }

    /// Adds the sums Σgₙ and Σgₙ² of `examples` examples of the parameter at `path`.
    mutating func add(sum: ArraySlice<Double>, square: ArraySlice<Double>, examples: Int, to path: String) {
        var entry = sums.removeValue(forKey: path)
            ?? Sums(gradient: Array(repeating: 0, count: sum.count), square: Array(repeating: 0, count: sum.count))
        precondition(entry.gradient.count == sum.count,
                     "DiagonalFisher: \(path) had \(entry.gradient.count) values, now \(sum.count)")
        for (i, (s, q)) in zip(sum, square).enumerated() {
            entry.gradient[i] += s
            entry.square[i] += q
        }
        entry.examples += examples
        sums[path] = entry
    }

    /// The paths seen so far.
    public var paths: [String] { sums.keys.sorted() }

    /// Every process's sums added together (a data-parallel score: each
    /// process accumulated its share of the examples, of the same layers).
    public mutating func sum(over processes: any Collective) {
        let paths = self.paths
        let summed = processes.sum(paths.flatMap { path in
            [sums[path]!.gradient, sums[path]!.square, [Double(sums[path]!.examples)]]
        })
        for (i, path) in paths.enumerated() {
            sums[path] = Sums(gradient: summed[3 * i], square: summed[3 * i + 1], examples: Int(summed[3 * i + 2][0]))
        }
    }

    /// Number of parameters seen so far.
    public var parameterCount: Int { sums.values.reduce(0) { $0 + $1.gradient.count } }

    /// η over every parameter seen (or only `paths`).
    public func naturalScore(epsilon: Double, paths selected: [String]? = nil) -> Double {
        naturalScoreAndEffectiveParameters(epsilon: epsilon, paths: selected).score
    }

    /// η and the parameters the damped diagonal resolves, tr(F_ε⁻¹F) =
    /// Σ Fᵢᵢ/(Fᵢᵢ + ε): 1 for every parameter with a gradient, 0 for one
    /// without. It sizes η's sampling noise (`NaturalScore.unbiasedEta`).
    public func naturalScoreAndEffectiveParameters(epsilon: Double, paths selected: [String]? = nil)
        -> (score: Double, effectiveParameters: Double) {
        var eta = 0.0, effective = 0.0
        for path in selected ?? paths {
            guard let entry = sums[path], entry.examples > 0 else { continue }
            let n = Double(entry.examples)
            for i in entry.gradient.indices {
                let mean = entry.gradient[i] / n, fisher = entry.square[i] / n
                eta += mean * mean / (fisher + epsilon)
                effective += fisher / (fisher + epsilon)
            }
        }
        return (eta, effective)
    }
}
