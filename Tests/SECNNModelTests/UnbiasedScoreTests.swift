import Foundation
import SECNNCore
import SECNNModel
import XCTest

/// `NaturalScore.unbiasedEta` against the quantity it estimates, on
/// simulated per-example gradients.
final class UnbiasedScoreTests: XCTestCase {
    private var generator = SeededGenerator(seed: 5)

    /// The unbiased score removes the sampling floor: for gradients whose
    /// expected value is zero, η averages about P/n over many subsets while
    /// the unbiased score averages about 0; for a gradient with signal, the
    /// unbiased score averages μ²/E[g²] (summed over parameters).
    func testUnbiasedScoreRemovesTheSamplingFloor() {
        let parameters = 200, examples = 32, subsets = 400
        // Per-example gradient of parameter j: μ_j + noise with unit variance; μ = 0 for the first half.
        let means = (0..<parameters).map { $0 < parameters / 2 ? 0.0 : 0.5 }
        let truth = means.reduce(0.0) { $0 + $1 * $1 / (1 + $1 * $1) }  // Σ μ²/(σ² + μ²)
        var rawSum = 0.0, unbiasedSum = 0.0
        for _ in 0..<subsets {
            var eta = 0.0, effective = 0.0
            for mean in means {
                let draws = (0..<examples).map { _ in mean + gaussian() }
                let average = draws.reduce(0, +) / Double(examples)
                let fisher = draws.reduce(0) { $0 + $1 * $1 } / Double(examples)
                eta += average * average / fisher
                effective += 1
            }
            rawSum += eta
            unbiasedSum += NaturalScore(eta: eta, parameters: parameters, effectiveParameters: effective,
                                        examples: examples).unbiasedEta!
        }
        let raw = rawSum / Double(subsets), unbiased = unbiasedSum / Double(subsets)
        // The raw score is biased up by about (P − η)/n ≈ 5.1; the unbiased one lands within 5% of the truth.
        XCTAssertGreaterThan(raw - truth, 4, "raw \(raw), truth \(truth)")
        XCTAssertEqual(unbiased, truth, accuracy: 0.05 * truth, "unbiased \(unbiased), truth \(truth)")
    }

    /// A standard normal draw (Box–Muller).
    private func gaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
    }

}
