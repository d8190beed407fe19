import Foundation
import SECNNCore
import XCTest
import _SECNNTestSupport

/// Label-smoothed cross-entropy against its definition, and ε = 0 against
/// the plain kernel's arithmetic, bit for bit.
final class CrossEntropyTests: XCTestCase {
    private var generator = SeededGenerator(seed: 17)

    /// (1/N) Σ_n Σ_k −t_nk log softmax(z_n)_k with t = (1−ε)·onehot + ε/K,
    /// computed directly in Double (no max subtraction, unlike the kernel).
    func testSmoothedLossMatchesDefinition() {
        let (batch, classes) = (4, 5)
        let labels: [Int32] = [0, 4, 2, 2]
        let z: Tensor<Double> = randomTensor([batch, classes], &generator, scale: 3)
        for epsilon in [0.0, 0.1, 0.5] {
            var expected = 0.0
            for n in 0..<batch {
                let row = z.scalars[(n * classes)..<((n + 1) * classes)]
                let logSumExp = log(row.map(exp).reduce(0, +))
                for (k, value) in row.enumerated() {
                    let target = (k == Int(labels[n]) ? 1 - epsilon : 0) + epsilon / Double(classes)
                    expected -= target * (value - logSumExp)
                }
            }
            expected /= Double(batch)
            let g = Graph<Double>(training: true)
            let loss = g.value(g.crossEntropy(g.input(z), labels: labels, smoothing: epsilon)).scalars[0]
            XCTAssertEqual(loss, expected, accuracy: 1e-13 * abs(expected), "cross-entropy, ε \(epsilon)")
        }
    }

    /// ε = 0 keeps the loss and gradient bits of the plain kernel, so runs
    /// without label smoothing train exactly as before it existed.
    func testNoSmoothingKeepsThePlainKernelsBits() {
        let (batch, classes) = (6, 10)
        let labels: [Int32] = [3, 0, 9, 9, 5, 1]
        let z: Tensor<Float> = randomTensor([batch, classes], &generator, scale: 4)
        // The plain kernel's arithmetic, operation for operation.
        var total: Float = 0
        var gradient = [Float](repeating: 0, count: batch * classes)
        for n in 0..<batch {
            let row = Array(z.scalars[(n * classes)..<((n + 1) * classes)])
            var peak = row[0]
            for k in 1..<classes where row[k] > peak { peak = row[k] }
            var p = row.map { Float.exp($0 - peak) }
            let sum = p.reduce(0, +)
            for k in 0..<classes { p[k] /= sum }
            total += Float.log(sum) + peak - row[Int(labels[n])]
            for k in 0..<classes {
                gradient[n * classes + k] = (1 / Float(batch)) * (p[k] - (k == Int(labels[n]) ? 1 : 0))
            }
        }
        let g = Graph<Float>(training: true)
        let logits = g.input(z, differentiable: true)
        let loss = g.crossEntropy(logits, labels: labels, smoothing: 0)
        g.backward(from: loss)
        XCTAssertEqual(g.value(loss).scalars[0].bitPattern, (total / Float(batch)).bitPattern)
        XCTAssertEqual(try XCTUnwrap(g.gradient(logits)).scalars.map(\.bitPattern), gradient.map(\.bitPattern))
    }
}
