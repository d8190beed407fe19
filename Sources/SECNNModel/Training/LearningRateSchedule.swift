import Foundation

/// How the learning rate moves over a run (`--schedule`).
public enum LearningRateSchedule: String, Codable, CaseIterable, Sendable {
    /// The paper's: the base rate, halved after `patience` epochs without a
    /// new best validation accuracy (`TrainingState.observe`).
    case plateau
    /// Cosine annealing, step by step, from the base rate at the start of the
    /// run to 0 at the end of its last epoch; no halving, no restarts.
    case cosine

    /// Whether epochs without a new best validation accuracy halve the rate.
    public var halvesOnPlateau: Bool { self == .plateau }

    /// The rate of optimisation step `step` of `steps` in epoch `epoch` of
    /// `epochs` (both 0-based). `plateau` keeps `current`, the state's rate;
    /// `cosine` is base · ½(1 + cos(π·t)) with t = (epoch + step/steps) / epochs,
    /// a function of the place in the run alone, so a resumed run recomputes
    /// exactly the rates the uninterrupted one used.
    public func rate(base: Double, current: Double, epoch: Int, epochs: Int, step: Int, steps: Int) -> Double {
        switch self {
        case .plateau: return current
        case .cosine: return base * Self.cosineFactor((Double(epoch) + Double(step) / Double(steps)) / Double(epochs))
        }
    }

    /// ½(1 + cos(π·t)): 1 at t = 0, ½ at t = ½, 0 at t = 1, falling in between.
    public static func cosineFactor(_ t: Double) -> Double { 0.5 * (1 + cos(Double.pi * t)) }
}
