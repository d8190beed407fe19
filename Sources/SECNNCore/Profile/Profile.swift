import Dispatch

/// Seconds (and, where the work is GEMM-shaped, floating-point operations)
/// added up by kind of work: `OpProfile` for a training step's ops,
/// `ScoringProfile` for the phases of candidate scoring. Not thread-safe:
/// measure from the thread that drives the work (kernels may still split
/// what they are given across threads).
public final class Profile<Kind: Hashable & CaseIterable & Sendable> {
    public private(set) var seconds: [Kind: Double] = [:]
    /// Floating-point operations of the kinds that count them.
    public private(set) var flops: [Kind: Double] = [:]

    public init() {}

    public func add(_ kind: Kind, seconds: Double, flops: Double = 0) {
        self.seconds[kind, default: 0] += seconds
        self.flops[kind, default: 0] += flops
    }

    /// Runs `body` and adds its time to `kind`.
    public func measure<R>(_ kind: Kind, flops: Double = 0, _ body: () throws -> R) rethrows -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(kind, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, flops: flops) }
        return try body()
    }

    /// `profile.measure(kind, body)`, or just `body()` when there is no profile.
    public static func measure<R>(_ profile: Profile?, _ kind: Kind, _ body: () throws -> R) rethrows -> R {
        guard let profile else { return try body() }
        return try profile.measure(kind, body)
    }

    public var totalSeconds: Double { seconds.values.reduce(0, +) }
}
