import SECNNGrowth

/// A Lua rule is a growth policy: `SelfExpandingRun` drives it like any other.
extension Rule: GrowthPolicy {}
