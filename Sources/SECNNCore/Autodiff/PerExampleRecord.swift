/// What an op with parameters keeps for per-example statistics: its input
/// and the gradient of the graph's loss with respect to its output. From
/// these two, each example's own weight gradient follows (conv: dYₙ·im2col(Xₙ)ᵀ;
/// linear: dyₙ⊗xₙ), and so do the K-FAC factors (input patches and output
/// gradients). A batch norm's per-example gradients (Σ dz·x̂ and Σ dz, dz the
/// gradient at the batch norm's output) are only C numbers per example, and
/// its backward pass reads x and dz anyway: it sums them there and keeps
/// them in the record.
///
/// The gradients are those of the graph's loss: for a loss that is a mean
/// over N examples, example n's gradient of its own loss term is N times
/// what `forEachExample` hands out (`scale` corrects for it).
public struct PerExampleRecord<T: TensorScalar>: Sendable {
    public enum Layer: Sendable {
        case conv2d(Conv2dShape)
        case linear(batch: Int, inputs: Int, outputs: Int)
        /// Each example's γ and β gradients, (N, C) each.
        case batchNorm(exampleGradients: (gamma: [T], beta: [T]), batch: Int, channels: Int)
    }

    public let layer: Layer
    /// Path of the conv/linear weight or the batch norm's gamma.
    public let weightPath: String
    /// Path of the bias or the batch norm's beta (nil: the layer has none).
    public let biasPath: String?
    public let input: Tensor<T>
    /// The gradient at the op's output (for batch norm fused with a
    /// LeakyReLU, after the activation).
    public let gradOutput: Tensor<T>

    public var batch: Int {
        switch layer {
        case .conv2d(let shape): return shape.batch
        case .linear(let batch, _, _), .batchNorm(_, let batch, _): return batch
        }
    }

    /// Calls `body(n, weightGradient, biasGradient)` for every example, each
    /// multiplied by `scale`. The buffers are reused between calls.
    public func forEachExample(
        scale: T = 1, _ body: (Int, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?) -> Void
    ) {
        var scaledWeight: [T] = [], scaledBias: [T] = []
        func scaled(_ n: Int, _ weight: UnsafeBufferPointer<T>, _ bias: UnsafeBufferPointer<T>?) {
            guard scale != 1 else { return body(n, weight, bias) }
            scaledWeight = weight.map { $0 * scale }
            scaledBias = bias.map { $0.map { $0 * scale } } ?? []
            scaledWeight.withUnsafeBufferPointer { w in
                scaledBias.withUnsafeBufferPointer { b in body(n, w, bias == nil ? nil : b) }
            }
        }
        input.withPointer { x in
            gradOutput.withPointer { dy in
                switch layer {
                case .conv2d(let shape):
                    conv2dPerExampleGradients(input: x, gradOutput: dy, hasBias: biasPath != nil, shape: shape, scaled)
                case .linear(let batch, let inputs, let outputs):
                    linearPerExampleGradients(input: x, gradOutput: dy, hasBias: biasPath != nil,
                                              batch: batch, inputs: inputs, outputs: outputs, scaled)
                case .batchNorm(let exampleGradients, let batch, let channels):
                    exampleGradients.gamma.withUnsafeBufferPointer { gamma in
                        exampleGradients.beta.withUnsafeBufferPointer { beta in
                            for n in 0..<batch {
                                let rows = (n * channels)..<((n + 1) * channels)
                                scaled(n, UnsafeBufferPointer(rebasing: gamma[rows]), UnsafeBufferPointer(rebasing: beta[rows]))
                            }
                        }
                    }
                }
            }
        }
    }
}
