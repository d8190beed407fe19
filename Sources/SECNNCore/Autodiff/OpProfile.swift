import Dispatch

/// Where a training step's time goes, by kind of op: what `secnn bench
/// --profile` prints. A graph with a `profile` attributes to each op the
/// time since the previous op was recorded (its forward pass: ops compute
/// eagerly) and the time of its backward step; conv ops split their
/// backward into the input-gradient and weight-gradient products.
public final class OpProfile {
    public enum Kind: String, CaseIterable, Sendable {
        case convForward = "conv_fwd", convBackwardData = "conv_bwd_data", convBackwardWeight = "conv_bwd_weight"
        case batchNorm = "bn", activation = "activation", pool = "pool", head = "head", optimizer = "optimizer"
    }

    public private(set) var seconds: [Kind: Double] = [:]
    /// Floating-point operations of the GEMM-shaped work (conv kinds), as a
    /// direct convolution counts them (2·N·O·C·K²·H·W per product): for
    /// convs that run as Winograd F(2×2, 3×3), which multiplies 2.25× less,
    /// GFLOP/s from these are effective rates and may exceed the GEMM peak.
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

    public var totalSeconds: Double { seconds.values.reduce(0, +) }
}
