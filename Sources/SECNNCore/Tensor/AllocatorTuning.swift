import CMalloc

/// Tells glibc's allocator to keep freed memory for reuse.
///
/// A training step allocates the same large activation and gradient buffers
/// as the step before (tens of MB each at batch 512). By default glibc
/// serves such blocks with mmap and unmaps them on free, so every step
/// page-faults them in again and the kernel zeroes every page (about 5% of a
/// step in `perf`). Serving them from the heap and never trimming it lets a
/// step reuse the previous step's memory. Peak RSS is unchanged: the memory
/// was going to be touched again within milliseconds.
public func keepFreedMemoryForReuse() {
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_TRIM_THRESHOLD, Int32.max)
}
