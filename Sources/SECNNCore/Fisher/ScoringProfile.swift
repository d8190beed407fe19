/// Where scoring the current model and its candidates spends its time, by
/// phase: what `secnn score --profile` prints. The per-example statistics
/// of conv layers are split into their parts, since which of them a score
/// needs is what makes the diagonal and K-FAC scores cost what they do.
public typealias ScoringProfile = Profile<ScoringPhase>

/// The phases a `ScoringProfile` tells apart.
public enum ScoringPhase: String, CaseIterable, Sendable {
    /// Building the candidate models (a new layer's calibration pass).
    case materialise
    /// Forward passes: the shared blocks once per chunk, then each model's own.
    case forward
    /// Backward passes: each model's own blocks, then on into the shared ones.
    case backward
    /// K-FAC's input factors Ω of conv layers (shared between models where a layer's input is the same).
    case convInputFactor = "conv_input_factor"
    /// K-FAC's output-gradient factors Γ of conv layers.
    case convOutputFactor = "conv_output_factor"
    /// Sums (and squares) of conv layers' per-example weight gradients: the
    /// diagonal Fisher's conv work, and K-FAC's mean gradient Ḡ.
    case convGradientMoments = "conv_gradient_moments"
    /// Batch-norm and linear layers' statistics.
    case otherLayers = "other_layers"
    /// η from the accumulated statistics (K-FAC: Cholesky solves).
    case solve
}
