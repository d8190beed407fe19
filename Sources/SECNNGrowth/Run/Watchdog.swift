import Dispatch

/// The wall-clock backstop behind a rule's instruction budget. The count
/// hook cannot see time spent inside one C library call (a pathological
/// string pattern can run for hours), and such a call cannot be stopped
/// safely from outside. So when a call outlives `seconds`, `expired` runs on
/// the watchdog's own thread while the rule's thread is still stuck: the
/// command line reports it and ends the process, whose checkpoints (written
/// before every growth round) let `--resume` continue the run.
public struct Watchdog: Sendable {
    public var seconds: Double
    public var expired: @Sendable (_ rule: String, _ function: String, _ seconds: Double) -> Void

    public init(seconds: Double, expired: @escaping @Sendable (String, String, Double) -> Void) {
        self.seconds = seconds
        self.expired = expired
    }

    /// Runs `call`, with `expired` armed for `seconds`.
    func guarding<R>(_ rule: String, _ function: String, _ call: () throws -> R) rethrows -> R {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let (seconds, expired) = (self.seconds, self.expired)
        timer.setEventHandler { expired(rule, function, seconds) }
        timer.schedule(deadline: .now() + seconds)
        timer.resume()
        defer { timer.cancel() }
        return try call()
    }
}
