/// Where a training step's time goes, by kind of op: what `secnn bench
/// --profile` prints. A graph with a `profile` attributes to each op the
/// time since the previous op was recorded (its forward pass: ops compute
/// eagerly) and the time of its backward step; conv ops split their
/// backward into the input-gradient and weight-gradient products.
///
/// The flops are those of the GEMM-shaped work (conv kinds), as a direct
/// convolution counts them (2·N·O·C·K²·H·W per product): for convs that run
/// as Winograd F(2×2, 3×3), which multiplies 2.25× less, GFLOP/s from these
/// are effective rates and may exceed the GEMM peak.
public typealias OpProfile = Profile<OpKind>

/// The kinds of op an `OpProfile` tells apart.
public enum OpKind: String, CaseIterable, Sendable {
    case convForward = "conv_fwd", convBackwardData = "conv_bwd_data", convBackwardWeight = "conv_bwd_weight"
    case batchNorm = "bn", activation = "activation", pool = "pool", head = "head", optimizer = "optimizer"
}
