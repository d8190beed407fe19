import SECNNModel

/// Receives a growth run's events besides the training progress.
public protocol GrowthObserver: TrainingObserver {
    /// After an expansion was applied.
    func expanded(_ record: ExpansionRecord)
    /// When the rule failed this epoch (the epoch proceeds without expansion).
    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int)
    /// After the current model and the proposed candidates were scored,
    /// before the rule decides: the numbers it will see.
    func scored(epoch: Int, report: ScoreReport)
}
