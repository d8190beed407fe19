import Foundation
import SECNNModel

/// Prints a run: one line per epoch, and a live progress bar inside the
/// epoch when stdout is a terminal (plain lines only otherwise, e.g. in CI).
class TrainingPrinter: TrainingObserver {
    private let live = isatty(STDOUT_FILENO) == 1
    private var lastDraw = Date.distantPast
    /// The first epoch this process trained: `elapsed` counts from its start (a resumed run's too).
    private var firstEpoch: Int?

    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {
        guard live, step == steps || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30, done = width * step / steps
        let bar = String(repeating: "=", count: done) + String(repeating: " ", count: width - done)
        print("\r  epoch \(epoch) [\(bar)] \(step)/\(steps)  \(Int(imagesPerSecond)) img/s", terminator: "")
        fflush(stdout)
    }

    func epochFinished(_ m: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {
        if live { print("\r\u{1B}[2K", terminator: "") }
        let first = firstEpoch ?? m.epoch
        firstEpoch = first
        let eta = elapsed / Double(m.epoch - first + 1) * Double(totalEpochs - m.epoch)
        let fields = [
            "epoch \(m.epoch)/\(totalEpochs)",
            String(format: "loss=%.4f", m.trainLoss),
            String(format: "train_acc=%.4f", m.trainAccuracy),
            String(format: "val_loss=%.4f", m.validationLoss),
            String(format: "val_acc=%.4f", m.validationAccuracy),
            String(format: "lr=%.3g", m.learningRate),
            "params=\(m.parameters)",
            "img/s=\(Int(m.imagesPerSecond))",
            "elapsed=\(formatDuration(elapsed))",
            "eta=\(formatDuration(eta))",
        ]
        print(fields.joined(separator: "  ") + (isBest ? "  *" : ""))
        fflush(stdout)
    }
}
