// OpenBLAS (0.3.21, with the SkylakeX/Cooperlake kernels Debian's build
// picks on this machine) runs a single-precision GEMM of at most 10⁶
// multiply-adds through small-matrix kernels that skip packing. For the
// thin products of these networks, both sides at most 40, they run up to
// twice as fast as the blocked path just above that size (measured: a 32×32
// product over 1088 columns takes 31 µs whole and 20 µs in two halves; 32×32
// over 1024 for K-FAC's Γ, 42 µs through syrk and 23 µs in halves). Larger
// sides gain nothing: 48×48 over 1088 takes 59 µs either way.

/// The column block for an M×N product over `k` columns: the size of the
/// fewest equal blocks that keep each within the small-matrix kernels; nil
/// when either side is over 40.
func smallGEMMBlock(m: Int, n: Int, k: Int) -> Int? {
    guard max(m, n) <= 40 else { return nil }
    let blocks = (m * n * k + 999_999) / 1_000_000
    return (k + blocks - 1) / max(blocks, 1)
}
