/// Which approximation of the Fisher the natural expansion score uses.
public enum NaturalScoreMethod: String, CaseIterable, Codable, Sendable {
    /// The diagonal of the empirical Fisher (`DiagonalFisher`).
    case diag
    /// Kronecker-factored blocks for conv (KFC) and linear (K-FAC) layers,
    /// the diagonal for batch norm (`KroneckerFactors`).
    case kfac
}

/// How to compute η = gᵀF⁻¹g.
public struct NaturalScoreSettings: Codable, Equatable, Sendable {
    public var method: NaturalScoreMethod
    /// Added to each diagonal Fisher entry. Absolute, so it must stay far
    /// below the squared per-example gradients of the smallest parameters:
    /// the weights of a new channel start near 1e-4, their squared
    /// gradients near 1e-10 or below.
    public var epsilon: Double
    /// Tikhonov damping γ of the Kronecker factors, split between them as
    /// π√γ and √γ/π.
    public var damping: Double

    public init(method: NaturalScoreMethod = .diag, epsilon: Double = 1e-16, damping: Double = 1e-3) {
        self.method = method
        self.epsilon = epsilon
        self.damping = damping
    }
}

/// Collects the per-example statistics of one model's layers (from the
/// records of any number of backward passes) and turns them into η.
public struct NaturalScoreAccumulator: Sendable {
    public let settings: NaturalScoreSettings
    private var diagonal = DiagonalFisher()
    private var factors: [String: KroneckerFactors] = [:]

    public init(settings: NaturalScoreSettings) {
        self.settings = settings
    }

    /// Adds a layer's examples; `scale` turns the recorded gradients of a
    /// mean loss into per-example gradients (the batch size). With `shared`,
    /// accumulators of several models share the K-FAC input sums of layers
    /// that see the very same input tensor: the first computes, the others
    /// reuse. `profile` times the work by kind (`ScoringPhase`).
    @_specialize(where T == Float)
    public mutating func accumulate<T: TensorScalar>(_ record: PerExampleRecord<T>, scale: T,
                                                     sharing shared: SharedInputFactors? = nil,
                                                     profile: ScoringProfile? = nil) {
        switch (settings.method, record.layer) {
        case (.kfac, .conv2d), (.kfac, .linear):
            var layer = factors.removeValue(forKey: record.weightPath) ?? KroneckerFactors(layerOf: record)
            let known = shared?.inputSum(of: record)
            let knownChannels = known == nil ? shared?.knownChannels(of: record) : nil
            let own = layer.accumulate(record, scale: scale, inputSum: known, knownChannels: knownChannels, profile: profile)
            if known == nil { shared?.keep(own, of: record) }
            factors[record.weightPath] = layer
        case (_, .conv2d):
            ScoringProfile.measure(profile, .convGradientMoments) { diagonal.accumulate(record, scale: scale) }
        default:
            ScoringProfile.measure(profile, .otherLayers) { diagonal.accumulate(record, scale: scale) }
        }
    }

    /// Every process's statistics added together: after each process has
    /// accumulated its share of the examples, every process holds the sums
    /// one process would have over all of them.
    public mutating func sum(over processes: any Collective) {
        diagonal.sum(over: processes)
        for path in factors.keys.sorted() { factors[path]!.sum(over: processes) }
    }

    /// η summed over every layer seen, and the parameters the damped Fisher
    /// resolves (tr(F_d⁻¹F), for η's sampling noise). Throws if a damped
    /// Kronecker factor is not positive definite (damping far below the
    /// factors' scale).
    public func score(profile: ScoringProfile? = nil) throws -> (eta: Double, effectiveParameters: Double) {
        try ScoringProfile.measure(profile, .solve) {
            var total = diagonal.naturalScoreAndEffectiveParameters(epsilon: settings.epsilon)
            for path in factors.keys.sorted() {
                let layer = try factors[path]!.naturalScoreAndEffectiveParameters(damping: settings.damping)
                total.score += layer.score
                total.effectiveParameters += layer.effectiveParameters
            }
            return (total.score, total.effectiveParameters)
        }
    }
}

/// The K-FAC input sums Σaaᵀ of layers computed so far for one batch of
/// images, with the inputs they came from: a layer of another model that
/// receives an equal input (a layer in front of a candidate's change, or
/// before it in the same block) reuses the sum instead of recomputing it,
/// and a 3×3 conv whose input only adds channels to a stored one computes
/// only the entries of the new channels.
/// Make a new one for every batch.
public final class SharedInputFactors {
    private var entries: [String: [(input: AnyObject, sum: [Double])]] = [:]

    public init() {}

    /// The stored sum of an equal input to the same layer, if any.
    func inputSum<T: TensorScalar>(of record: PerExampleRecord<T>) -> [Double]? {
        // Equal tensors, not just the same buffer: a candidate recomputes the unchanged layers' inputs.
        entries[record.weightPath]?.first { ($0.input as? Box<T>)?.tensor == record.input }?.sum
    }

    /// The stored sum of an input to the same 3×3 conv that the record's
    /// input begins with: the same images, whose first channels are equal
    /// (the conv after a widened block's first layer sees the current
    /// model's channels, then the new ones).
    func knownChannels<T: TensorScalar>(of record: PerExampleRecord<T>) -> (count: Int, sum: [Double])? {
        guard case .conv2d(let shape) = record.layer, shape.kernel == 3 else { return nil }
        for entry in entries[record.weightPath] ?? [] {
            guard let known = (entry.input as? Box<T>)?.tensor, known.shape.count == 4, known.shape[0] == shape.batch,
                  known.shape[1] < shape.inChannels, Array(known.shape[2...]) == [shape.height, shape.width] else { continue }
            let (knownSize, size) = (known.shape[1] * shape.pixels, shape.inputImageSize)
            let equal = known.withPointer { a in
                record.input.withPointer { b in
                    (0..<shape.batch).allSatisfy { n in
                        UnsafeBufferPointer(start: a + n * knownSize, count: knownSize)
                            .elementsEqual(UnsafeBufferPointer(start: b + n * size, count: knownSize))
                    }
                }
            }
            if equal { return (known.shape[1], entry.sum) }
        }
        return nil
    }

    func keep<T: TensorScalar>(_ sum: [Double], of record: PerExampleRecord<T>) {
        entries[record.weightPath, default: []].append((Box(record.input), sum))
    }

    private final class Box<T: TensorScalar> {
        let tensor: Tensor<T>
        init(_ tensor: Tensor<T>) { self.tensor = tensor }
    }
}
