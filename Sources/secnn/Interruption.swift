import Foundation

/// Ctrl-C and SIGTERM ask a training run to stop after its current batch
/// and write a checkpoint to resume from; a second Ctrl-C ends the process
/// at once (the signal's default), for a run that does not get there.
enum Interruption {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                Interruption.flag = 1
                signal(SIGINT, SIG_DFL)
            }
        }
    }
}
